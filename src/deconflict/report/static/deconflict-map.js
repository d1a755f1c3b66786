/* deconflict map toolkit, shared by the offline HTML report and the web UI's sites map.
 * Needs Leaflet, Leaflet.markercluster and topojson-client (for outlines), and pmtiles +
 * protomaps-leaflet (for a basemap); all vendored in deconflict/report/static (VENDORED.txt).
 * Nothing here touches the network: outlines and basemaps are handed over as data.
 *
 *   var map = DeconflictMap.create("map");                 // no national symbol in the attribution
 *   DeconflictMap.addOutlines(map, topology);              // Natural Earth country outlines (world-atlas)
 *   DeconflictMap.addBasemap(map, bytes, info);            // a .pmtiles archive as a Uint8Array
 *   var group = DeconflictMap.siteClusters({ notified: function (marker) { ... } });
 *   DeconflictMap.fitTo(map, latlngs, { minSpanM: 1500 });  // keeps them clear of the controls
 *   DeconflictMap.collapsible({ title: "Legend", html: "...", position: "bottomright" }).addTo(map);
 */
(function () {
  "use strict";
  var M = {};

  /* A Leaflet map with the panes the toolkit draws into and a neutral attribution prefix. */
  M.create = function (element, options) {
    var map = L.map(element, L.extend({ zoomSnap: 0.25, maxZoom: 19, minZoom: 1, worldCopyJump: false, attributionControl: true,
      preferCanvas: false }, options || {}));
    // Leaflet 1.9's default prefix carries a national flag; a tool whose records are shown to a
    // warring party carries no party's symbol.
    map.attributionControl.setPrefix("Leaflet (BSD-2-Clause)");
    map.createPane("basemap").style.zIndex = 150;
    map.createPane("outlines").style.zIndex = 160;
    map.getPane("outlines").style.pointerEvents = "none";
    return map;
  };

  /* Country outlines from a world-atlas TopoJSON topology (Natural Earth, public domain). */
  M.addOutlines = function (map, topology, options) {
    var o = L.extend({ object: "countries", color: "#8a8f98", weight: 0.8, fillColor: "#f4f1ea" }, options || {});
    if (!topology || typeof topojson === "undefined" || !topology.objects || !topology.objects[o.object]) return null;
    var land = topojson.feature(topology, topology.objects[o.object]);
    var layer = L.geoJSON(land, {
      pane: "outlines", interactive: false, renderer: L.canvas({ pane: "outlines", padding: 0.2 }),
      style: { color: o.color, weight: o.weight, fill: true, fillColor: o.fillColor, fillOpacity: 1 },
      attribution: "Country outlines: Natural Earth (public domain)",
    });
    layer.addTo(map);
    return layer;
  };

  /* A basemap from the bytes of a PMTiles archive: vector tiles drawn by protomaps-leaflet
   * (Protomaps basemap schema, "light" style), raster tiles drawn as images from blob: URLs. */
  M.addBasemap = function (map, bytes, info) {
    info = info || {};
    var file = new File([bytes], info.name || "basemap.pmtiles");
    var archive = new pmtiles.PMTiles(new pmtiles.FileSource(file));
    var attribution = info.attribution || "basemap: " + (info.name || "PMTiles archive");
    var layer;
    if (!info.tile_type || info.tile_type === "mvt") {
      layer = protomapsL.leafletLayer({ url: archive, flavor: info.flavor || "light", lang: info.lang || "en",
        attribution: attribution, pane: "basemap", maxDataZoom: info.max_zoom || 15 });
    } else {
      var Raster = L.GridLayer.extend({
        createTile: function (coords, done) {
          var img = document.createElement("img");
          archive.getZxy(coords.z, coords.x, coords.y).then(function (tile) {
            if (!tile) { done(null, img); return; }
            img.onload = function () { URL.revokeObjectURL(img.src); done(null, img); };
            img.src = URL.createObjectURL(new Blob([tile.data], { type: "image/" + info.tile_type }));
          }, function (error) { done(error, img); });
          return img;
        },
      });
      layer = new Raster({ attribution: attribution, pane: "basemap", maxNativeZoom: info.max_zoom, minNativeZoom: info.min_zoom });
    }
    layer.addTo(map);
    return layer;
  };

  /* Markers within `spanM` metres of each other stand for one building: a click on their
   * cluster spreads them out (spiderfy) instead of zooming in further. */
  function clusterSpanM(cluster) {
    var b = cluster.getBounds();
    return b.getSouthWest().distanceTo(b.getNorthEast());
  }

  /* A marker-cluster group for sites. options.colourOf(marker) -> CSS colour of one marker;
   * options.notified(marker) -> bool (a green ring on clusters holding one); options.radius px. */
  M.siteClusters = function (options) {
    var o = L.extend({ radius: 36, sameBuildingM: 40, colourOf: function () { return "#1f4e9c"; },
      notified: function () { return false; }, pane: "markerPane" }, options || {});
    var group = L.markerClusterGroup({
      maxClusterRadius: o.radius, showCoverageOnHover: false, zoomToBoundsOnClick: false,
      spiderfyOnMaxZoom: true, removeOutsideVisibleBounds: true, chunkedLoading: true, clusterPane: o.pane,
      spiderLegPolylineOptions: { weight: 1.5, color: "#222", opacity: 0.6 },
      iconCreateFunction: function (cluster) {
        var children = cluster.getAllChildMarkers(), counts = {}, best = null, ring = false;
        children.forEach(function (mk) {
          var c = o.colourOf(mk);
          counts[c] = (counts[c] || 0) + 1;
          if (!best || counts[c] > counts[best]) best = c;
          ring = ring || o.notified(mk);
        });
        var n = children.length, size = n < 10 ? 26 : n < 100 ? 32 : 38;
        return L.divIcon({
          html: '<span style="background:' + best + '">' + n + "</span>",
          className: "site-cluster" + (ring ? " notified" : ""), iconSize: L.point(size, size),
        });
      },
    });
    group.on("clusterclick", function (e) {
      var cluster = e.layer;
      if (clusterSpanM(cluster) <= o.sameBuildingM || cluster._map.getZoom() >= cluster._map.getMaxZoom()) {
        cluster.spiderfy();
      } else {
        cluster.zoomToBounds({ padding: [40, 40] });
      }
    });
    return group;
  };

  /* The screen rectangles of the map's controls (for keeping data clear of them). */
  M.controlRects = function (map) {
    var out = [];
    map.getContainer().querySelectorAll(".leaflet-control").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) out.push(r);
    });
    return out;
  };

  /* Fit the view to `latlngs` (at least `minSpanM` metres across), with the top and bottom bands
   * the corner controls occupy left free, so no control covers a fitted point. */
  M.fitTo = function (map, latlngs, options) {
    var o = L.extend({ minSpanM: 1500, maxZoom: 17, margin: 24 }, options || {});
    var bounds = L.latLngBounds(latlngs);
    if (!bounds.isValid()) return false;
    var c = bounds.getCenter(), half = o.minSpanM / 2;
    var dLat = half / 111320, dLon = half / (111320 * Math.max(Math.cos(c.lat * Math.PI / 180), 0.05));
    bounds.extend([c.lat - dLat, c.lng - dLon]).extend([c.lat + dLat, c.lng + dLon]);
    var box = map.getContainer().getBoundingClientRect(), top = 0, bottom = 0;
    M.controlRects(map).forEach(function (r) {
      if (r.top - box.top < box.height / 2) top = Math.max(top, r.bottom - box.top);
      else bottom = Math.max(bottom, box.bottom - r.top);
    });
    map.fitBounds(bounds, { animate: false, maxZoom: o.maxZoom,
      paddingTopLeft: [o.margin, top + o.margin], paddingBottomRight: [o.margin, bottom + o.margin] });
    return true;
  };

  /* A control that shows a small button until clicked, then its body (and a close button).
   * options: title, html (string) or build(div), position, open (bool), className. */
  M.collapsible = function (options) {
    var o = L.extend({ position: "bottomright", open: false, className: "" }, options || {});
    var control = L.control({ position: o.position });
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "dm-collapsible leaflet-bar " + o.className + (o.open ? " open" : ""));
      var button = L.DomUtil.create("button", "dm-toggle", div);
      button.type = "button";
      button.textContent = o.title;
      button.setAttribute("aria-expanded", o.open ? "true" : "false");
      var body = L.DomUtil.create("div", "dm-body", div);
      if (o.build) o.build(body); else body.innerHTML = o.html || "";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      button.addEventListener("click", function () {
        var open = !div.classList.contains("open");
        div.classList.toggle("open", open);
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
      return div;
    };
    return control;
  };

  window.DeconflictMap = M;
})();
