/* deconflict report: the map. Reads the JSON in #report-data, draws with Leaflet (inlined).
 * Incidents are drawn on one canvas per provenance (100,000 points redraw in tens of ms);
 * sites, possible hits and their uncertainty circles are SVG vectors. No network access:
 * the page's Content-Security-Policy forbids it unless a tile layer was asked for.
 * Sets window.__reportReady = true (and __reportReadyAt, ms since navigation start) once the
 * map has drawn, and window.__reportStats with the counts of what is on the map. */
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
  var NOTIFIED = "#1a7f37";
  var inc = D.incidents, n = inc.id.length;

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

  var map = L.map("map", { zoomSnap: 0.25, worldCopyJump: false, attributionControl: true });
  map.attributionControl.setPrefix("Leaflet (BSD-2-Clause)");
  map.createPane("incidents").style.zIndex = 350;
  map.createPane("hits").style.zIndex = 420;
  map.createPane("sites").style.zIndex = 450;
  map.createPane("reports").style.zIndex = 460;  // real (non-synthetic) incidents above the sites they hit
  var hitRenderer = L.svg({ pane: "hits" }), siteRenderer = L.svg({ pane: "sites" });

  /* ---- offline basemap: study-area outline and a graticule ---- */
  var baseLayers = {};
  var none = L.layerGroup();
  baseLayers[C.tiles_url ? "No basemap" : "No basemap (offline report)"] = none;
  if (C.tiles_url) {
    var tiles = L.tileLayer(C.tiles_url, { attribution: C.tiles_attribution || "", maxZoom: 19 });
    baseLayers["Online tiles"] = tiles;
    tiles.addTo(map);
  } else {
    none.addTo(map);
  }
  var overlays = {};
  if (D.study_area) {
    var area = L.geoJSON(D.study_area, {
      style: { color: "#555", weight: 1.5, dashArray: "6 4", fill: true, fillColor: "#f4f1ea", fillOpacity: 0.6 },
      interactive: false,
    }).addTo(map);
    overlays["Study area outline"] = area;
  }
  var graticule = L.layerGroup().addTo(map);
  function niceStep(span) {
    var steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= 8) return steps[i];
    return 45;
  }
  function drawGraticule() {
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
  overlays["Latitude/longitude graticule"] = graticule;

  /* ---- incidents: a canvas layer per provenance ---- */
  var CanvasPoints = L.Layer.extend({
    initialize: function (indices, colour, synthetic, circles) {
      this.idx = indices; this.colour = colour; this.synthetic = synthetic; this.circles = circles; this.count = indices.length;
    },
    onAdd: function (m) {
      this._map = m;
      this._canvas = L.DomUtil.create("canvas", "incident-canvas leaflet-zoom-hide");
      m.getPane(this.synthetic || this.circles ? "incidents" : "reports").appendChild(this._canvas);
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
      var zoom = m.getZoom(), scale = Math.pow(2, zoom), origin = m.getPixelOrigin();
      var ox = -origin.x - topLeft.x, oy = -origin.y - topLeft.y, idx = this.idx, k, i, x, y;
      var mPerPx0 = 40075016.686 / (256 * scale);
      ctx.beginPath();
      if (this.circles) {
        for (k = 0; k < idx.length; k++) {
          i = idx[k]; x = P0X[i] * scale + ox; y = P0Y[i] * scale + oy;
          var r = inc.unc[i] / (mPerPx0 * COSLAT[i]);
          if (r < 2 || x < -r || y < -r || x > size.x + r || y > size.y + r) continue;
          ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 6.2832);
        }
        ctx.strokeStyle = this.colour; ctx.globalAlpha = 0.5; ctx.lineWidth = 1;
        if (this.synthetic) ctx.setLineDash([3, 3]);
        ctx.stroke();
        return;
      }
      if (this.synthetic) {  // small grey dots
        for (k = 0; k < idx.length; k++) {
          i = idx[k]; x = P0X[i] * scale + ox; y = P0Y[i] * scale + oy;
          if (x < -5 || y < -5 || x > size.x + 5 || y > size.y + 5) continue;
          ctx.moveTo(x + 2.5, y); ctx.arc(x, y, 2.5, 0, 6.2832);
        }
        ctx.fillStyle = this.colour; ctx.globalAlpha = 0.8; ctx.fill();
        return;
      }
      var h = 5;  // real reports: a cross with a white halo, readable on top of a site marker
      for (k = 0; k < idx.length; k++) {
        i = idx[k]; x = P0X[i] * scale + ox; y = P0Y[i] * scale + oy;
        if (x < -8 || y < -8 || x > size.x + 8 || y > size.y + 8) continue;
        ctx.moveTo(x - h, y - h); ctx.lineTo(x + h, y + h); ctx.moveTo(x - h, y + h); ctx.lineTo(x + h, y - h);
      }
      ctx.lineCap = "round"; ctx.strokeStyle = "#fff"; ctx.lineWidth = 5; ctx.stroke();
      ctx.strokeStyle = this.colour; ctx.lineWidth = 2.5; ctx.stroke();
    },
  });
  // Web-Mercator pixel coordinates at zoom 0, computed once.
  var P0X = new Float64Array(n), P0Y = new Float64Array(n), COSLAT = new Float64Array(n);
  for (var i = 0; i < n; i++) {
    var p = map.options.crs.latLngToPoint(L.latLng(inc.lat[i], inc.lon[i]), 0);
    P0X[i] = p.x; P0Y[i] = p.y; COSLAT[i] = Math.cos(inc.lat[i] * Math.PI / 180);
  }
  var byProv = inc.provenances.map(function () { return []; });
  for (i = 0; i < n; i++) byProv[inc.prov[i]].push(i);
  var incidentLayers = [], circleLayers = [];
  // Synthetic first, so real reports are drawn on top of them.
  var provOrder = inc.provenances.map(function (p, k) { return k; }).sort(function (a, b) {
    return (inc.synthetic[b] ? 1 : 0) - (inc.synthetic[a] ? 1 : 0);
  });
  provOrder.forEach(function (k) {
    var name = inc.provenances[k], layer = new CanvasPoints(byProv[k], provColour(name), inc.synthetic[k], false);
    incidentLayers.push(layer);
    overlays[(inc.synthetic[k] ? '<span class="swatch round" style="background:' + provColour(name) + '"></span>'
      : '<span class="cross" style="color:' + provColour(name) + '">✕</span>') + "Incidents: " + esc(provLabel(name)) +
      " (" + byProv[k].length.toLocaleString("en") + ")"] = layer;
    var circles = new CanvasPoints(byProv[k], provColour(name), inc.synthetic[k], true);
    overlays["Uncertainty circles: " + esc(provLabel(name))] = circles;
    circleLayers.push(circles);
    if (!inc.synthetic[k] && byProv[k].length <= 5000) circles.addTo(map);
  });

  /* ---- sites ---- */
  var siteById = {}, siteMarkers = [], siteGroups = {}, labelled = {};
  // One permanent label per notification, on its first site: "notified to RUS <date> (3 sites)".
  D.notifications.forEach(function (nt) {
    var first = nt.site_ids.filter(function (id) { return D.sites.some(function (s) { return s.id === id; }); })[0];
    if (first && !labelled[first]) labelled[first] = "notified to " + nt.recipient + " " + spanText(nt.notified_at) +
      (nt.site_ids.length > 1 ? " (" + nt.site_ids.length + " sites)" : "");
  });
  D.sites.forEach(function (s) {
    siteById[s.id] = s;
    var group = siteGroups[s.kind] || (siteGroups[s.kind] = L.layerGroup());
    var colour = KIND_COLOURS[s.kind] || "#333";
    var tip = "<b>" + esc(s.name) + "</b><br>" + esc(s.owner_name) + " (" + esc(s.owner) + "), " + esc(s.kind.replace(/_/g, " ")) +
      "<br>hit radius " + s.radius_m + " m" + (s.approximate ? '<br><b class="approx">APPROXIMATE location</b>' : "") +
      (s.notified_at ? "<br><b>notified to " + esc(s.notified_to) + " " + esc(spanText(s.notified_at)) + "</b>" : "");
    group.addLayer(L.circle([s.lat, s.lon], { radius: s.radius_m, renderer: siteRenderer, color: colour, weight: 1,
      fillOpacity: 0.08, interactive: false }));
    var marker = L.circleMarker([s.lat, s.lon], {
      renderer: siteRenderer, radius: s.notified_at ? 8 : 6, color: s.notified_at ? NOTIFIED : "#222",
      weight: s.notified_at ? 3 : 1.2, fillColor: colour, fillOpacity: 0.95, dashArray: s.approximate ? "3 2" : null,
      className: "site-marker",
    }).bindPopup(tip);
    marker.site = s;
    if (labelled[s.id]) {
      marker.bindTooltip(esc(labelled[s.id]), { permanent: true, direction: "right", className: "notified-label", offset: [8, 0] });
    } else if (s.notified_at) {
      marker.bindTooltip(esc(s.name) + (s.approximate ? " (APPROXIMATE location)" : "") + "<br>notified to " +
        esc(s.notified_to) + " " + esc(spanText(s.notified_at)));
    } else {
      marker.bindTooltip(esc(s.name) + (s.approximate ? " (APPROXIMATE location)" : ""));
    }
    group.addLayer(marker);
    siteMarkers.push(marker);
  });
  Object.keys(siteGroups).sort().forEach(function (kind) {
    siteGroups[kind].addTo(map);
    overlays['<span class="swatch round" style="background:' + (KIND_COLOURS[kind] || "#333") + '"></span>Sites: ' +
      esc(kind.replace(/_/g, " ")) + " (" + siteGroups[kind].getLayers().length / 2 + ")"] = siteGroups[kind];
  });

  /* ---- possible hits: lines to the sites and the incidents' uncertainty circles ---- */
  var hits = L.layerGroup(), idIndex = null;
  function incidentIndex(id) {
    if (!idIndex) { idIndex = {}; for (var j = 0; j < n; j++) idIndex[inc.id[j]] = j; }
    return idIndex[id];
  }
  D.matches.forEach(function (m) {
    var s = siteById[m.site_id], j = incidentIndex(m.incident_id);
    if (!s || j === undefined) return;
    var colour = m.synthetic ? "#777" : "#c0392b";
    var text = "possible hit on " + esc(s.name) + ": P(hit) " + m.hit_probability.toFixed(2) + ", " + Math.round(m.distance_m) +
      " m" + (m.synthetic ? " — SYNTHETIC incident" : "");
    hits.addLayer(L.polyline([[inc.lat[j], inc.lon[j]], [s.lat, s.lon]], { renderer: hitRenderer, color: colour,
      weight: 1 + 3 * m.hit_probability, opacity: 0.85, dashArray: "4 3" }).bindTooltip(text));
    hits.addLayer(L.circle([inc.lat[j], inc.lon[j]], { renderer: hitRenderer, radius: Math.max(inc.unc[j], 1), color: colour,
      weight: 1.2, fillOpacity: 0.06 }).bindTooltip(esc(inc.id[j]) + ": uncertainty " + inc.unc[j] + " m"));
  });
  hits.addTo(map);
  overlays["Possible hits: lines to sites, uncertainty circles (" + D.matches.length + ")"] = hits;

  /* ---- click on an incident ---- */
  map.on("click", function (e) {
    var m = map, pt = m.latLngToContainerPoint(e.latlng), best = -1, bestD = 64, onMap = {};
    incidentLayers.forEach(function (l) { if (m.hasLayer(l)) l.idx.forEach(function (k) { onMap[k] = 1; }); });
    var zoom = m.getZoom(), scale = Math.pow(2, zoom), origin = m.getPixelOrigin(), pane = m._getMapPanePos();
    for (var k = 0; k < n; k++) {
      var dx = P0X[k] * scale - origin.x + pane.x - pt.x, dy = P0Y[k] * scale - origin.y + pane.y - pt.y, d = dx * dx + dy * dy;
      if (d < bestD && onMap[k]) { bestD = d; best = k; }
    }
    if (best < 0) return;
    var prov = inc.provenances[inc.prov[best]], t0 = inc.t0[best], t1 = inc.t1[best];
    var when = t1 > t0 ? localTime(t0) + " to " + localTime(t1) : localTime(t0);
    L.popup().setLatLng([inc.lat[best], inc.lon[best]]).setContent(
      "<b>" + esc(inc.id[best]) + "</b>" + (inc.synthetic[inc.prov[best]] ? ' <b class="synthetic">SYNTHETIC</b>' : "") +
      "<br>" + esc(inc.kind[best]) + "<br>" + when + " (" + esc(C.timezone || "UTC") + ", " +
      Math.round((t1 - t0) / 3600) + " h window)<br>uncertainty " + inc.unc[best] + " m · " + esc(provLabel(prov))).openOn(m);
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

  /* ---- controls: layers, scale, legend, owner highlight, banners ---- */
  L.control.layers(baseLayers, overlays, { collapsed: false, position: "topright" }).addTo(map);
  L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "legend");
    var html = "<b>Legend</b><br>";
    Object.keys(siteGroups).sort().forEach(function (kind) {
      html += '<span class="swatch round" style="background:' + (KIND_COLOURS[kind] || "#333") + '"></span>' + esc(kind.replace(/_/g, " ")) + "<br>";
    });
    html += '<span class="swatch round ring"></span>notified site (label: date)<br>' +
      '<span class="swatch round dashed"></span>APPROXIMATE location<br>';
    inc.provenances.forEach(function (p, k) {
      html += (inc.synthetic[k] ? '<span class="swatch round" style="background:' + provColour(p) + '"></span>'
        : '<span class="cross" style="color:' + provColour(p) + '">✕</span>') + "incident: " + esc(provLabel(p)) + "<br>";
    });
    if ((D.guarantees || { movements: [] }).movements.length) {
      html += '<span class="line" style="border-color:#7b3294"></span>movement route (dashed: SYNTHETIC)<br>';
    }
    html += '<span class="line"></span>possible hit → site (width: P(hit))<br>' +
      '<span class="swatch round hollow"></span>location uncertainty circle';
    div.innerHTML = html;
    return div;
  };
  legend.addTo(map);
  var owners = {};
  D.sites.forEach(function (s) { owners[s.owner] = s.owner_name; });
  var ownerControl = L.control({ position: "topleft" });
  ownerControl.onAdd = function () {
    var div = L.DomUtil.create("div", "owner-control leaflet-bar");
    var html = '<label>Owner <select id="owner-select"><option value="">all</option>';
    Object.keys(owners).sort().forEach(function (o) { html += '<option value="' + esc(o) + '">' + esc(o) + " " + esc(owners[o]) + "</option>"; });
    div.innerHTML = html + "</select></label>";
    L.DomEvent.disableClickPropagation(div);
    div.querySelector("select").addEventListener("change", function (ev) {
      var owner = ev.target.value;
      siteMarkers.forEach(function (mk) {
        var on = !owner || mk.site.owner === owner;
        mk.setStyle({ opacity: on ? 1 : 0.15, fillOpacity: on ? 0.95 : 0.1 });
        if (on && owner) mk.bringToFront();
      });
    });
    return div;
  };
  ownerControl.addTo(map);
  var banner = L.control({ position: "bottomleft" });
  banner.onAdd = function () {
    var div = L.DomUtil.create("div", "map-banner");
    var lines = [];
    var synth = inc.provenances.filter(function (p, k) { return inc.synthetic[k]; }).map(function (p) { return byProv[inc.provenances.indexOf(p)].length; });
    if (synth.length) lines.push("<b>SYNTHETIC</b>: " + synth.reduce(function (a, b) { return a + b; }, 0).toLocaleString("en") + " grey incidents are simulated, not real events");
    var approx = D.sites.filter(function (s) { return s.approximate; }).length;
    if (approx) lines.push("<b>APPROXIMATE</b>: " + approx + " site(s) placed by hand (dashed outline)");
    if (!C.tiles_url) lines.push("No basemap (offline): grey grid = latitude/longitude" + (D.study_area ? "; dashed outline = " + esc(D.study_area_label || "study area") : ""));
    div.innerHTML = lines.join("<br>");
    return div;
  };
  banner.addTo(map);

  /* ---- view, readiness, print ---- */
  var bounds = L.latLngBounds([]);
  D.sites.forEach(function (s) { bounds.extend([s.lat, s.lon]); });
  if (n) {
    var la = inc.lat, lo = inc.lon, s = Infinity, w = Infinity, no = -Infinity, e = -Infinity;
    for (i = 0; i < n; i++) { if (la[i] < s) s = la[i]; if (la[i] > no) no = la[i]; if (lo[i] < w) w = lo[i]; if (lo[i] > e) e = lo[i]; }
    bounds.extend([[s, w], [no, e]]);
  }
  function fit() {
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.02), { animate: false }); else map.setView([0, 0], 2, { animate: false });
  }
  fit();
  map.on("moveend", drawGraticule);
  drawGraticule();
  incidentLayers.forEach(function (l) { l.addTo(map); });

  function countOnMap() {
    var sites = 0, incidents = 0;
    siteMarkers.forEach(function (mk) { if (map.hasLayer(mk)) sites++; });
    incidentLayers.forEach(function (l) { if (map.hasLayer(l)) incidents += l.count; });
    return { siteMarkers: sites, incidentMarkers: incidents, hitLines: D.matches.length,
      sitesInData: D.sites.length, incidentsInData: n };
  }
  var canvasLayers = incidentLayers.concat(circleLayers);
  window.__reportPrepareForPrint = function () {
    map.invalidateSize({ animate: false });
    fit();
    canvasLayers.forEach(function (l) { if (map.hasLayer(l)) { l._redraw(); l.snapshot(); } });
    return true;
  };
  window.addEventListener("beforeprint", window.__reportPrepareForPrint);
  window.addEventListener("afterprint", function () { canvasLayers.forEach(function (l) { l.unsnapshot(); }); });
  window.__reportMap = map;  // for tests and for readers who want to script the map
  requestAnimationFrame(function () {
    window.__reportStats = countOnMap();
    window.__reportReadyAt = performance.now();
    window.__reportReady = true;
    document.documentElement.setAttribute("data-report-ready", "true");
  });
})();
