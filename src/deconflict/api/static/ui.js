// Draws the sites the token may see on a Leaflet map with no basemap (offline, no tile server).
// Exact sites are solid circles of their protection radius; coarsened ones are dashed 0.01° cells.
// Every label is plain text: tooltips get a DOM node filled with textContent, never an HTML string
// (a site's name is its owner's input and must not become markup in an admin's or analyst's browser).
(function () {
  "use strict";
  function textNode(text) {
    var span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function draw() {
    var holder = document.getElementById("map");
    var source = document.getElementById("sites-data");
    if (!holder || !source || typeof L === "undefined") { return; }
    var sites = JSON.parse(source.textContent || "[]");
    var map = L.map(holder);
    // No national flag or other party's symbol in the attribution (Leaflet 1.9 adds a flag by default).
    map.attributionControl.setPrefix("Leaflet (BSD-2-Clause)");
    L.control.scale({ imperial: false }).addTo(map);
    // The view must exist before shapes are added (Leaflet projects them on add).
    if (sites.length) {
      map.fitBounds(L.latLngBounds(sites.map(function (s) { return [s.lat, s.lon]; })).pad(0.2), { maxZoom: 16 });
    } else {
      map.setView([50.45, 30.52], 11);
    }
    var layer = L.featureGroup().addTo(map);
    sites.forEach(function (s) {
      var label = s.name + " (" + s.id + ")";
      if (s.location_precision === "exact") {
        L.circle([s.lat, s.lon], { radius: Math.max(s.radius_m, 20), color: "#1f4e9c", weight: 2 })
          .bindTooltip(textNode(label)).addTo(layer);
      } else {
        var h = 0.005;
        L.rectangle([[s.lat - h, s.lon - h], [s.lat + h, s.lon + h]], { color: "#6a3d9a", weight: 1, dashArray: "4 3" })
          .bindTooltip(textNode(label + " — location coarsened to this 0.01° cell")).addTo(layer);
      }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
