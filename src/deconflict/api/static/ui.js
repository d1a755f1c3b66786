// The UI's maps, drawn with Leaflet and no basemap (offline, no tile server): the sites the token
// may see (#sites-data) and the incidents listed on the page (#incidents-data), as the token sees
// them. Exact sites are solid circles of their protection radius; coarsened ones dashed 0.01° cells.
// Every label is plain text: tooltips get a DOM node filled with textContent, never an HTML string
// (a site's name is its owner's input and must not become markup in an admin's or analyst's browser).
(function () {
  "use strict";
  var CELL_HALF = 0.005;
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function data(id) {
    var source = document.getElementById(id);
    return source ? JSON.parse(source.textContent || "[]") : null;
  }
  function newMap(holder, points) {
    var map = L.map(holder);
    // No national flag or other party's symbol in the attribution (Leaflet 1.9 adds a flag by default).
    map.attributionControl.setPrefix("Leaflet (BSD-2-Clause)");
    L.control.scale({ imperial: false }).addTo(map);
    // The view must exist before shapes are added (Leaflet projects them on add).
    if (points.length) {
      map.fitBounds(L.latLngBounds(points.map(function (p) { return [p.lat, p.lon]; })).pad(0.2), { maxZoom: 16 });
    } else {
      map.setView([50.45, 30.52], 11);
    }
    return map;
  }
  function cell(p, style) {
    return L.rectangle([[p.lat - CELL_HALF, p.lon - CELL_HALF], [p.lat + CELL_HALF, p.lon + CELL_HALF]], style);
  }
  function drawSites(map, sites) {
    var layer = L.featureGroup().addTo(map);
    sites.forEach(function (s) {
      var label = s.name + " (" + s.id + ")";
      if (s.location_precision === "exact") {
        L.circle([s.lat, s.lon], { radius: Math.max(s.radius_m, 20), color: "#1f4e9c", weight: 2 })
          .bindTooltip(textNode(label)).addTo(layer);
      } else {
        cell(s, { color: "#6a3d9a", weight: 2, dashArray: "6 3" })
          .bindTooltip(textNode(label + " — location coarsened to this 0.01° cell")).addTo(layer);
      }
    });
  }
  function drawIncidents(map, incidents) {
    var layer = L.featureGroup().addTo(map);
    incidents.forEach(function (i) {
      var label = i.id + " · " + i.time + (i.provenance ? " · " + (i.provenance === "synthetic" ? "SYNTHETIC" : i.provenance) : "");
      var colour = i.provenance === "synthetic" ? "#8c6d1f" : "#b00020";
      if (i.precision === "exact") {
        if (i.uncertainty_m > 0) {
          L.circle([i.lat, i.lon], { radius: i.uncertainty_m, color: colour, weight: 1, fillOpacity: 0.05, interactive: false }).addTo(layer);
        }
        L.circleMarker([i.lat, i.lon], { radius: 5, color: colour, weight: 1.5, fillOpacity: 0.7 })
          .bindTooltip(textNode(label)).addTo(layer);
      } else {
        cell(i, { color: colour, weight: 2, dashArray: "6 2", fillOpacity: 0.1 })
          .bindTooltip(textNode(label + " — location coarsened to this 0.01° cell")).addTo(layer);
      }
    });
  }
  function draw() {
    var holder = document.getElementById("map");
    if (!holder || typeof L === "undefined") { return; }
    var sites = data("sites-data"), incidents = data("incidents-data");
    if (sites) { drawSites(newMap(holder, sites), sites); }
    else if (incidents) { drawIncidents(newMap(holder, incidents), incidents); }
    holder.setAttribute("data-ready", "true");
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
