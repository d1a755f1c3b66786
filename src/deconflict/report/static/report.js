/* deconflict report: the map. Reads the JSON in #report-data, draws with Leaflet and the shared
 * toolkit deconflict-map.js (all inlined). Incidents and possible hits are drawn on canvases; where
 * more than BIN_MAX incidents of one layer are in view they are drawn binned (counts per 6 px cell),
 * so a million incidents open and pan quickly. Sites are clustered (Leaflet.markercluster); sites
 * sharing a building spread out on click. The view opens on the featured sites, clear of the
 * controls. Basemap: a PMTiles archive embedded in #basemap-data (report --basemap), else Natural
 * Earth country outlines. No network access: the page's Content-Security-Policy forbids it unless a
 * tile layer was asked for. Sets window.__reportReady = true (and __reportReadyAt, ms since
 * navigation start) once the map has drawn, and window.__reportStats with what is on the map. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var C = JSON.parse(document.getElementById("report-config").textContent);
  /* A time in the database's timezone (the browser's own time zone data; works offline). */
  var localFormat = new Intl.DateTimeFormat("sv-SE", {
    timeZone: C.timezone || "UTC", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
  });
  function localTime(seconds) { return localFormat.format(new Date(seconds * 1000)); }
  var KIND_COLOURS = C.kind_colours, PROV_COLOURS = C.provenance_colours;
  var NOTIFIED = "#1a7f37", BIN_MAX = 20000, BIN_PX = 6;

  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function day(iso) { return iso ? iso.slice(0, 10) : ""; }
  function spanText(s) {
    if (!s) return "";
    return s.precision === "instant" || day(s.start) === day(s.end) ? day(s.start) : day(s.start) + " – " + day(s.end);
  }
  function provColour(p) { return PROV_COLOURS[p] || "#1f77b4"; }
  function provLabel(p) { return p === "synthetic" ? "SYNTHETIC (simulated)" : p; }

  /* ---- the columns of the data block (base64 of little-endian typed arrays) ---- */
  var TYPES = { int32: Int32Array, uint32: Uint32Array, uint16: Uint16Array, uint8: Uint8Array, float32: Float32Array, float64: Float64Array };
  function column(block, name) {
    var bytes;
    if (Uint8Array.fromBase64) {  // native decoding (Chromium 140+, Firefox 133+, Safari 18.2+)
      bytes = Uint8Array.fromBase64(block[name]);
    } else {
      var bin = atob(block[name]);
      bytes = new Uint8Array(bin.length);
      for (var k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    }
    return new TYPES[block.dtypes[name]](bytes.buffer, bytes.byteOffset, bytes.byteLength / TYPES[block.dtypes[name]].BYTES_PER_ELEMENT);
  }
  var I = D.incidents, n = I.count;
  var inc = { lat: new Float64Array(n), lon: new Float64Array(n), unc: column(I, "unc"), t0: column(I, "t0"), dt: column(I, "dt"),
    prov: column(I, "prov"), kind: column(I, "kind"), provenances: I.provenances, synthetic: I.synthetic, ids: null };
  var latE6 = column(I, "lat_e6"), lonE6 = column(I, "lon_e6");
  for (var i = 0; i < n; i++) { inc.lat[i] = latE6[i] / 1e6; inc.lon[i] = lonE6[i] / 1e6; }
  function incidentId(k) { if (!inc.ids) inc.ids = n ? I.ids.split("\n") : []; return inc.ids[k]; }
  var Mt = D.matches, nMatch = Mt.count;
  var hit = { site: column(Mt, "site"), incident: column(Mt, "incident"), p: column(Mt, "hit_probability"), d: column(Mt, "distance_m") };

  var map = DeconflictMap.create("map");
  map.createPane("incidents").style.zIndex = 350;
  map.createPane("hits").style.zIndex = 420;
  map.createPane("sites").style.zIndex = 450;
  map.createPane("reports").style.zIndex = 460;  // real (non-synthetic) incidents above the sites they hit
  map.createPane("featured").style.zIndex = 455;
  var siteRenderer = L.svg({ pane: "sites" }), featuredRenderer = L.svg({ pane: "featured" });

  /* ---- basemap: an embedded PMTiles archive, online tiles, or country outlines ---- */
  var baseLayers = {}, overlays = {};
  var outlinesData = document.getElementById("outlines-data");
  var outlines = outlinesData ? DeconflictMap.addOutlines(map, JSON.parse(outlinesData.textContent)) : null;
  var basemapData = document.getElementById("basemap-data");
  if (basemapData && C.basemap) {
    var raw = atob(basemapData.textContent.replace(/\s+/g, "")), bytes = new Uint8Array(raw.length);
    for (i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    baseLayers["Basemap: " + esc(C.basemap.name)] = DeconflictMap.addBasemap(map, bytes, C.basemap);
    if (outlines) { map.removeLayer(outlines); overlays["Country outlines (Natural Earth)"] = outlines; }
  } else if (C.tiles_url) {
    var tiles = L.tileLayer(C.tiles_url, { attribution: C.tiles_attribution || "", maxZoom: 19 });
    baseLayers["Online tiles"] = tiles;
    tiles.addTo(map);
    if (outlines) overlays["Country outlines (Natural Earth)"] = outlines;
  } else if (outlines) {
    baseLayers["Country outlines (Natural Earth, offline)"] = outlines;
  }
  if (D.study_area) {
    var area = L.geoJSON(D.study_area, {
      style: { color: "#555", weight: 1.5, dashArray: "6 4", fill: false }, interactive: false,
    }).addTo(map);
    overlays["Study area outline"] = area;
  }
  var graticule = L.layerGroup();
  function niceStep(span) {
    var steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
    for (var k = 0; k < steps.length; k++) if (span / steps[k] <= 8) return steps[k];
    return 45;
  }
  function drawGraticule() {
    if (!map.hasLayer(graticule)) return;
    graticule.clearLayers();
    var b = map.getBounds(), step = niceStep(Math.max(b.getNorth() - b.getSouth(), b.getEast() - b.getWest()));
    var digits = step < 0.01 ? 3 : step < 0.1 ? 2 : step < 1 ? 1 : 0, style = { color: "#9aa", weight: 0.6, opacity: 0.7, interactive: false };
    for (var lat = Math.ceil(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
      graticule.addLayer(L.polyline([[lat, b.getWest()], [lat, b.getEast()]], style));
      graticule.addLayer(L.marker([lat, b.getWest()], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "grat-label", html: lat.toFixed(digits) + "°N", iconSize: null, iconAnchor: [-2, 12] }) }));
    }
    for (var lon = Math.ceil(b.getWest() / step) * step; lon <= b.getEast(); lon += step) {
      graticule.addLayer(L.polyline([[b.getSouth(), lon], [b.getNorth(), lon]], style));
      graticule.addLayer(L.marker([b.getSouth(), lon], { interactive: false, keyboard: false,
        icon: L.divIcon({ className: "grat-label", html: lon.toFixed(digits) + "°E", iconSize: null, iconAnchor: [-2, 14] }) }));
    }
  }
  graticule.on("add", function () { setTimeout(drawGraticule, 0); });
  overlays["Latitude/longitude graticule"] = graticule;

  /* ---- Web-Mercator pixel coordinates at zoom 0, computed once ---- */
  function mercX(lon) { return (lon + 180) / 360 * 256; }
  function mercY(lat) {
    var s = Math.sin(Math.max(Math.min(lat, 85.05113), -85.05113) * Math.PI / 180);
    return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256;
  }
  var P0X = new Float64Array(n), P0Y = new Float64Array(n);
  for (i = 0; i < n; i++) { P0X[i] = mercX(inc.lon[i]); P0Y[i] = mercY(inc.lat[i]); }

  /* ---- a canvas over the map, redrawn on every move; printable as an image ---- */
  var CanvasLayer = L.Layer.extend({
    initialize: function (pane, draw) { this.pane = pane; this.draw = draw; },
    onAdd: function (m) {
      this._map = m;
      this._canvas = L.DomUtil.create("canvas", "incident-canvas leaflet-zoom-hide");
      m.getPane(this.pane).appendChild(this._canvas);
      m.on("moveend zoomend resize viewreset", this._redraw, this);
      this._redraw();
    },
    // Chromium prints a <canvas> as an opaque bitmap that hides every layer below it, so for
    // printing each canvas is swapped for a transparent PNG <img> of itself (data: URL).
    snapshot: function () {
      this.unsnapshot();
      var img = this._img = L.DomUtil.create("img", "incident-print leaflet-zoom-hide");
      img.src = this._canvas.toDataURL("image/png");
      img.style.cssText = this._canvas.style.cssText + ";position:absolute;left:0;top:0";
      img.style.transform = this._canvas.style.transform;
      this._canvas.parentNode.insertBefore(img, this._canvas);
      this._canvas.style.display = "none";
    },
    unsnapshot: function () {
      if (this._img) { L.DomUtil.remove(this._img); this._img = null; }
      if (this._canvas) this._canvas.style.display = "";
    },
    onRemove: function (m) {
      this.unsnapshot();
      L.DomUtil.remove(this._canvas);
      m.off("moveend zoomend resize viewreset", this._redraw, this);
    },
    _redraw: function () {
      var m = this._map, size = m.getSize(), ratio = window.devicePixelRatio || 1, c = this._canvas;
      var topLeft = m.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(c, topLeft);
      c.width = size.x * ratio; c.height = size.y * ratio;
      c.style.width = size.x + "px"; c.style.height = size.y + "px";
      if (this._img) this.unsnapshot();
      var ctx = c.getContext("2d");
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var scale = Math.pow(2, m.getZoom()), origin = m.getPixelOrigin();
      this.draw(ctx, { w: size.x, h: size.y, scale: scale, ox: -origin.x - topLeft.x, oy: -origin.y - topLeft.y,
        mPerPx0: 40075016.686 / (256 * scale) });
    },
  });

  /* Incidents of one provenance: crosses (reported), dots (synthetic), or binned counts. */
  function pointsLayer(idx, colour, synthetic) {
    var layer = new CanvasLayer(synthetic ? "incidents" : "reports", function (ctx, v) {
      var k, j, x, y, inView = 0, w = v.w, h = v.h;
      for (k = 0; k < idx.length; k++) {
        j = idx[k]; x = P0X[j] * v.scale + v.ox; y = P0Y[j] * v.scale + v.oy;
        if (x >= -8 && y >= -8 && x <= w + 8 && y <= h + 8) inView++;
      }
      layer.inView = inView;
      layer.binned = inView > BIN_MAX;
      ctx.beginPath();
      if (layer.binned) {
        var cols = Math.ceil(w / BIN_PX), rows = Math.ceil(h / BIN_PX), grid = new Uint32Array(cols * rows), most = 0;
        for (k = 0; k < idx.length; k++) {
          j = idx[k]; x = (P0X[j] * v.scale + v.ox) / BIN_PX | 0; y = (P0Y[j] * v.scale + v.oy) / BIN_PX | 0;
          if (x >= 0 && y >= 0 && x < cols && y < rows) { var g = ++grid[y * cols + x]; if (g > most) most = g; }
        }
        ctx.fillStyle = colour;
        var logMost = Math.log(most + 1);
        for (var levels = 1; levels <= 4; levels++) {  // four shades, one fill each (fast)
          ctx.beginPath();
          for (k = 0; k < grid.length; k++) {
            if (!grid[k]) continue;
            var level = Math.min(4, 1 + Math.floor(4 * Math.log(grid[k]) / (logMost || 1)));
            if (level === levels) ctx.rect((k % cols) * BIN_PX, ((k / cols) | 0) * BIN_PX, BIN_PX - 1, BIN_PX - 1);
          }
          ctx.globalAlpha = 0.2 + 0.2 * levels;
          ctx.fill();
        }
        return;
      }
      if (synthetic) {  // small grey dots
        for (k = 0; k < idx.length; k++) {
          j = idx[k]; x = P0X[j] * v.scale + v.ox; y = P0Y[j] * v.scale + v.oy;
          if (x < -5 || y < -5 || x > w + 5 || y > h + 5) continue;
          ctx.moveTo(x + 2.5, y); ctx.arc(x, y, 2.5, 0, 6.2832);
        }
        ctx.fillStyle = colour; ctx.globalAlpha = 0.8; ctx.fill();
        return;
      }
      var r = 5;  // real reports: a cross with a white halo, readable on top of a site marker
      for (k = 0; k < idx.length; k++) {
        j = idx[k]; x = P0X[j] * v.scale + v.ox; y = P0Y[j] * v.scale + v.oy;
        if (x < -8 || y < -8 || x > w + 8 || y > h + 8) continue;
        ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x - r, y + r); ctx.lineTo(x + r, y - r);
      }
      ctx.lineCap = "round"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 5; ctx.stroke();
      ctx.strokeStyle = colour; ctx.lineWidth = 2.5; ctx.stroke();
    });
    layer.idx = idx; layer.count = idx.length; layer.synthetic = synthetic;
    return layer;
  }
  /* Location-uncertainty circles of one provenance (drawn once they are at least 2 px). */
  function circlesLayer(idx, colour, synthetic) {
    return new CanvasLayer("incidents", function (ctx, v) {
      ctx.beginPath();
      var drawn = 0;
      for (var k = 0; k < idx.length && drawn < BIN_MAX; k++) {
        var j = idx[k], x = P0X[j] * v.scale + v.ox, y = P0Y[j] * v.scale + v.oy;
        var r = inc.unc[j] / (v.mPerPx0 * Math.cos(inc.lat[j] * Math.PI / 180));
        if (r < 2 || x < -r || y < -r || x > v.w + r || y > v.h + r) continue;
        ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 6.2832); drawn++;
      }
      ctx.strokeStyle = colour; ctx.globalAlpha = 0.5; ctx.lineWidth = 1;
      if (synthetic) ctx.setLineDash([3, 3]);
      ctx.stroke();
    });
  }
  // The incidents of each provenance, as typed arrays (two passes: count, then fill).
  var provCount = new Uint32Array(inc.provenances.length);
  for (i = 0; i < n; i++) provCount[inc.prov[i]]++;
  var byProv = Array.prototype.map.call(provCount, function (c) { return new Uint32Array(c); }), fill = new Uint32Array(provCount.length);
  for (i = 0; i < n; i++) { var pv = inc.prov[i]; byProv[pv][fill[pv]++] = i; }
  var incidentLayers = [], canvasLayers = [];
  // Synthetic first, so real reports are drawn on top of them.
  var provOrder = inc.provenances.map(function (p, k) { return k; }).sort(function (a, b) {
    return (inc.synthetic[b] ? 1 : 0) - (inc.synthetic[a] ? 1 : 0);
  });
  provOrder.forEach(function (k) {
    var name = inc.provenances[k], idx = byProv[k];
    var layer = pointsLayer(idx, provColour(name), inc.synthetic[k]);
    incidentLayers.push(layer);
    overlays[(inc.synthetic[k] ? '<span class="swatch round" style="background:' + provColour(name) + '"></span>'
      : '<span class="cross" style="color:' + provColour(name) + '">✕</span>') + "Incidents: " + esc(provLabel(name)) +
      " (" + idx.length.toLocaleString("en") + ")"] = layer;
    var circles = circlesLayer(idx, provColour(name), inc.synthetic[k]);
    overlays["Uncertainty circles: " + esc(provLabel(name))] = circles;
    canvasLayers.push(layer, circles);
    if (!inc.synthetic[k] && idx.length <= 5000) circles.addTo(map);
  });

  /* ---- sites: clustered; the featured ones in their own group, above the others ---- */
  var featured = {};
  D.featured.forEach(function (id) { featured[id] = true; });
  var labelled = {};
  // One permanent label per notification, on its first site: "notified to RUS <date> (3 sites)".
  D.notifications.forEach(function (nt) {
    var first = nt.site_ids.filter(function (id) { return D.sites.some(function (s) { return s.id === id; }); })[0];
    if (first && !labelled[first]) labelled[first] = "notified to " + nt.recipient + " " + spanText(nt.notified_at) +
      (nt.site_ids.length > 1 ? " (" + nt.site_ids.length + " sites)" : "");
  });
  function colourOf(mk) { return KIND_COLOURS[mk.site.kind] || "#333"; }
  function isNotified(mk) { return !!mk.site.notified_at; }
  // Cluster icons go below the real incidents' crosses, so a hit on a clustered site stays visible.
  var otherSites = DeconflictMap.siteClusters({ radius: 36, colourOf: colourOf, notified: isNotified, pane: "sites" });
  var featuredSites = DeconflictMap.siteClusters({ radius: 14, colourOf: colourOf, notified: isNotified, pane: "featured" });
  var radii = L.layerGroup(), labels = L.layerGroup(), siteMarkers = [], kinds = {}, siteP0 = [];
  D.sites.forEach(function (s, k) {
    siteP0.push([mercX(s.lon), mercY(s.lat)]);
    kinds[s.kind] = (kinds[s.kind] || 0) + 1;
    var colour = KIND_COLOURS[s.kind] || "#333", isFeatured = !!featured[s.id];
    var tip = "<b>" + esc(s.name) + "</b><br>" + esc(s.owner_name) + " (" + esc(s.owner) + "), " + esc(s.kind.replace(/_/g, " ")) +
      "<br>hit radius " + s.radius_m + " m" + (s.approximate ? '<br><b class="approx">APPROXIMATE location</b>' : "") +
      (s.notified_at ? "<br><b>notified to " + esc(s.notified_to) + " " + esc(spanText(s.notified_at)) + "</b>" : "");
    radii.addLayer(L.circle([s.lat, s.lon], { radius: s.radius_m, renderer: siteRenderer, color: colour, weight: 1,
      fillOpacity: 0.08, interactive: false }));
    var marker = L.circleMarker([s.lat, s.lon], {
      renderer: isFeatured ? featuredRenderer : siteRenderer, radius: s.notified_at ? 8 : 6, color: s.notified_at ? NOTIFIED : "#222",
      weight: s.notified_at ? 3 : 1.2, fillColor: colour, fillOpacity: 0.95, dashArray: s.approximate ? "3 2" : null,
      className: "site-marker",
    }).bindPopup(tip);
    marker.site = s;
    marker.index = k;
    if (labelled[s.id]) {
      // A label of its own (not the marker's), so it stays when the marker joins a cluster.
      labels.addLayer(L.tooltip({ permanent: true, direction: "right", className: "notified-label", offset: [16, 0],
        interactive: false }).setLatLng([s.lat, s.lon]).setContent(esc(labelled[s.id])));
    }
    {
      marker.bindTooltip(esc(s.name) + (s.approximate ? " (APPROXIMATE location)" : "") +
        (s.notified_at ? "<br>notified to " + esc(s.notified_to) + " " + esc(spanText(s.notified_at)) : ""));
    }
    (isFeatured ? featuredSites : otherSites).addLayer(marker);
    siteMarkers.push(marker);
  });
  otherSites.addTo(map);
  featuredSites.addTo(map);
  labels.addTo(map);
  overlays["Notification labels"] = labels;
  overlays["Sites (" + D.sites.length + "; clusters show how many)"] = otherSites;
  if (D.featured.length) overlays["Featured sites (" + D.featured.length + ")"] = featuredSites;
  function showRadii() {
    var on = map.getZoom() >= 15;
    if (on && !map.hasLayer(radii)) radii.addTo(map); else if (!on && map.hasLayer(radii)) map.removeLayer(radii);
  }
  map.on("zoomend", showRadii);

  /* ---- possible hits: lines to the sites and the incidents' uncertainty circles (one canvas) ---- */
  var hits = new CanvasLayer("hits", function (ctx, v) {
    var pass, k;
    for (pass = 0; pass < 2; pass++) {  // synthetic (grey) first, real (red) on top
      ctx.setLineDash([4, 3]);
      for (k = 0; k < nMatch; k++) {
        var j = hit.incident[k], synthetic = inc.synthetic[inc.prov[j]];
        if ((pass === 0) !== !!synthetic) continue;
        var x = P0X[j] * v.scale + v.ox, y = P0Y[j] * v.scale + v.oy, sp = siteP0[hit.site[k]];
        var sx = sp[0] * v.scale + v.ox, sy = sp[1] * v.scale + v.oy;
        if (Math.max(x, sx) < 0 || Math.min(x, sx) > v.w || Math.max(y, sy) < 0 || Math.min(y, sy) > v.h) continue;
        ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(sx, sy);
        ctx.strokeStyle = synthetic ? "#777" : "#c0392b"; ctx.globalAlpha = 0.85; ctx.lineWidth = 1 + 3 * hit.p[k];
        ctx.stroke();
        var r = Math.max(inc.unc[j], 1) / (v.mPerPx0 * Math.cos(inc.lat[j] * Math.PI / 180));
        if (r >= 2) {
          ctx.beginPath(); ctx.setLineDash([]); ctx.arc(x, y, r, 0, 6.2832); ctx.lineWidth = 1.2; ctx.globalAlpha = 0.6;
          ctx.stroke(); ctx.setLineDash([4, 3]);
        }
      }
    }
  });
  hits.addTo(map);
  canvasLayers.push(hits);
  overlays["Possible hits: lines to sites, uncertainty circles (" + nMatch.toLocaleString("en") + ")"] = hits;

  /* ---- click on an incident: its details and its possible hits ---- */
  var hitsByIncident = null;
  map.on("click", function (e) {
    var pt = map.latLngToContainerPoint(e.latlng), best = -1, bestD = 64, onMap = {};
    incidentLayers.forEach(function (l) { if (map.hasLayer(l)) onMap[inc.prov[l.idx[0]]] = true; });
    var scale = Math.pow(2, map.getZoom()), origin = map.getPixelOrigin(), pane = map._getMapPanePos();
    for (var k = 0; k < n; k++) {
      var dx = P0X[k] * scale - origin.x + pane.x - pt.x, dy = P0Y[k] * scale - origin.y + pane.y - pt.y, d = dx * dx + dy * dy;
      if (d < bestD && onMap[inc.prov[k]]) { bestD = d; best = k; }
    }
    if (best < 0) return;
    if (!hitsByIncident) {
      hitsByIncident = {};
      for (k = 0; k < nMatch; k++) (hitsByIncident[hit.incident[k]] = hitsByIncident[hit.incident[k]] || []).push(k);
    }
    var prov = inc.provenances[inc.prov[best]], t0 = I.t_base + inc.t0[best], t1 = t0 + inc.dt[best];
    var when = t1 > t0 ? localTime(t0) + " to " + localTime(t1) : localTime(t0);
    var lines = (hitsByIncident[best] || []).map(function (m) {
      return "<br>possible hit on " + esc(D.sites[hit.site[m]].name) + ": P(hit) " + hit.p[m].toFixed(2) + ", " + Math.round(hit.d[m]) + " m";
    }).join("");
    L.popup().setLatLng([inc.lat[best], inc.lon[best]]).setContent(
      "<b>" + esc(incidentId(best)) + "</b>" + (inc.synthetic[inc.prov[best]] ? ' <b class="synthetic">SYNTHETIC</b>' : "") +
      "<br>" + esc(I.kinds[inc.kind[best]]) + "<br>" + when + " (" + esc(C.timezone || "UTC") + ", " +
      Math.round((t1 - t0) / 3600) + " h window)<br>uncertainty " + inc.unc[best] + " m · " + esc(provLabel(prov)) + lines).openOn(map);
  });

  /* ---- movements: routes of notified humanitarian movements ---- */
  var G = D.guarantees || { movements: [] };
  if (G.movements.length) {
    var routes = L.layerGroup().addTo(map);
    G.movements.forEach(function (m) {
      var line = L.polyline(m.route.coordinates.map(function (c) { return [c[1], c[0]]; }),
        { color: "#7b3294", weight: 4, opacity: 0.85, dashArray: m.synthetic ? "8 6" : null });
      line.bindTooltip("movement " + esc(m.name || m.id) + (m.synthetic ? " (SYNTHETIC)" : "") + ", corridor " +
        m.width_m + " m, " + esc(m.window.start) + " to " + esc(m.window.end));
      routes.addLayer(line);
    });
    overlays["Movements: routes (" + G.movements.length + ")"] = routes;
  }

  /* ---- controls: small and in the corners; the view keeps the data clear of them ---- */
  L.control.layers(baseLayers, overlays, { collapsed: true, position: "topright" }).addTo(map);
  L.control.scale({ imperial: false, maxWidth: 140 }).addTo(map);
  var legend = "";
  Object.keys(kinds).sort().forEach(function (kind) {
    legend += '<span class="swatch round" style="background:' + (KIND_COLOURS[kind] || "#333") + '"></span>' + esc(kind.replace(/_/g, " ")) +
      " (" + kinds[kind] + ")<br>";
  });
  legend += '<span class="swatch round ring"></span>notified site (label: date)<br>' +
    '<span class="swatch round dashed"></span>APPROXIMATE location<br>' +
    '<span class="swatch round cluster"></span>cluster of sites (click: zoom in, or spread out one building)<br>';
  inc.provenances.forEach(function (p, k) {
    legend += (inc.synthetic[k] ? '<span class="swatch round" style="background:' + provColour(p) + '"></span>'
      : '<span class="cross" style="color:' + provColour(p) + '">✕</span>') + "incident: " + esc(provLabel(p)) + "<br>";
  });
  legend += '<span class="swatch square"></span>where incidents are dense: counts per cell (darker: more)<br>';
  if (G.movements.length) legend += '<span class="line" style="border-color:#7b3294"></span>movement route (dashed: SYNTHETIC)<br>';
  legend += '<span class="line"></span>possible hit → site (width: P(hit))<br><span class="swatch round hollow"></span>location uncertainty circle';
  DeconflictMap.collapsible({ title: "Legend", html: legend, position: "bottomright", className: "legend" }).addTo(map);
  var owners = {};
  D.sites.forEach(function (s) { owners[s.owner] = s.owner_name; });
  DeconflictMap.collapsible({ title: "Owner", position: "topleft", className: "owner-control", build: function (div) {
    var html = '<label>Highlight <select id="owner-select"><option value="">all owners</option>';
    Object.keys(owners).sort().forEach(function (o) { html += '<option value="' + esc(o) + '">' + esc(o) + " " + esc(owners[o]) + "</option>"; });
    div.innerHTML = html + "</select></label>";
    div.querySelector("select").addEventListener("change", function (ev) {
      var owner = ev.target.value;
      siteMarkers.forEach(function (mk) {
        var on = !owner || mk.site.owner === owner;
        mk.setStyle({ opacity: on ? 1 : 0.15, fillOpacity: on ? 0.95 : 0.1 });
      });
    });
  } }).addTo(map);
  var banner = L.control({ position: "bottomleft" });
  banner.onAdd = function () {
    var div = L.DomUtil.create("div", "map-banner"), lines = [], synth = 0;
    inc.provenances.forEach(function (p, k) { if (inc.synthetic[k]) synth += byProv[k].length; });
    if (synth) lines.push("<b>SYNTHETIC</b>: " + synth.toLocaleString("en") + " grey incidents are simulated");
    var approx = D.sites.filter(function (s) { return s.approximate; }).length;
    if (approx) lines.push("<b>APPROXIMATE</b>: " + approx + " site(s) placed by hand");
    div.innerHTML = lines.join("<br>");
    if (!lines.length) div.style.display = "none";
    return div;
  };
  banner.addTo(map);

  /* ---- view: the featured sites (else all sites, else the incidents) ---- */
  var siteById = {};
  D.sites.forEach(function (s) { siteById[s.id] = s; });
  function viewPoints() {
    var pts = D.featured.map(function (id) { return [siteById[id].lat, siteById[id].lon]; });
    if (!pts.length) pts = D.sites.map(function (s) { return [s.lat, s.lon]; });
    if (!pts.length && n) {
      var la = Float64Array.from(inc.lat).sort(), lo = Float64Array.from(inc.lon).sort(), a = Math.floor(n * 0.02), b = Math.ceil(n * 0.98) - 1;
      pts = [[la[a], lo[a]], [la[b], lo[b]]];  // the middle 96 %: one stray report does not zoom the map out
    }
    return pts;
  }
  function fit() {
    if (!DeconflictMap.fitTo(map, viewPoints(), { minSpanM: D.featured.length ? 1500 : 3000 })) map.setView([20, 10], 2, { animate: false });
    showRadii();
  }
  fit();
  map.on("moveend", drawGraticule);
  incidentLayers.forEach(function (l) { l.addTo(map); });

  function countOnMap() {
    var represented = 0, inView = 0, binned = false, incidents = 0, b = map.getBounds();
    [otherSites, featuredSites].forEach(function (g) { if (map.hasLayer(g)) represented += g.getLayers().length; });
    siteMarkers.forEach(function (mk) { if (b.contains(mk.getLatLng())) inView++; });
    incidentLayers.forEach(function (l) { if (map.hasLayer(l)) { incidents += l.count; binned = binned || l.binned; } });
    return { siteMarkers: represented, sitesInView: inView, incidentMarkers: incidents, incidentsBinned: binned,
      hitLines: nMatch, sitesInData: D.sites.length, incidentsInData: n, zoom: map.getZoom() };
  }
  /* The marker itself when it is on the map, else the cluster drawn for it (markercluster's
   * getVisibleParent looks for an icon, which circle markers do not have). */
  function shownAs(mk) {
    if (map.hasLayer(mk)) return mk;
    for (var parent = mk.__parent; parent; parent = parent.__parent) if (parent._icon && map.hasLayer(parent)) return parent;
    return null;
  }
  window.__reportSiteShown = function () {
    var shown = 0;
    siteMarkers.forEach(function (mk) { if (shownAs(mk)) shown++; });
    return shown;
  };
  /* Where the featured sites are drawn (their marker, or the cluster holding them), in page pixels. */
  window.__reportFeaturedPoints = function () {
    var box = map.getContainer().getBoundingClientRect();
    return siteMarkers.filter(function (mk) { return featured[mk.site.id]; }).map(function (mk) {
      var shown = shownAs(mk), p = map.latLngToContainerPoint(shown ? shown.getLatLng() : mk.getLatLng());
      return { id: mk.site.id, x: box.left + p.x, y: box.top + p.y, shown: !!shown };
    });
  };
  window.__reportPrepareForPrint = function () {
    map.invalidateSize({ animate: false });
    fit();
    canvasLayers.forEach(function (l) { if (map.hasLayer(l)) { l._redraw(); l.snapshot(); } });
    return true;
  };
  window.addEventListener("beforeprint", window.__reportPrepareForPrint);
  window.addEventListener("afterprint", function () { canvasLayers.forEach(function (l) { l.unsnapshot(); }); });
  window.__reportMap = map;  // for tests and for readers who want to script the map
  window.__reportIncidents = { count: n, lat: inc.lat, lon: inc.lon, id: incidentId,
    isSynthetic: function (k) { return !!inc.synthetic[inc.prov[k]]; } };
  requestAnimationFrame(function () {
    window.__reportStats = countOnMap();
    window.__reportReadyAt = performance.now();
    window.__reportReady = true;
    document.documentElement.setAttribute("data-report-ready", "true");
  });
})();
