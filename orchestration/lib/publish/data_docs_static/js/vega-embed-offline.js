/* Stand-in for vega, vega-lite and vega-embed, which Great Expectations' Data Docs load from a
   CDN on every page. The suites of this project render no Vega chart (no distribution
   expectations), and the bundles are ~1 MB, so they are not shipped: should a page ever call
   vegaEmbed, it says in place of the chart that the chart is not available offline, instead of
   the page fetching from the internet or failing silently. */
(function () {
  function vegaEmbed(target, spec) {
    var el = typeof target === "string" ? document.querySelector(target) : target;
    if (el) {
      el.textContent = "Chart not available offline (Vega is not bundled with these Data Docs).";
      el.className += " text-muted small";
    }
    return Promise.resolve({ view: null, spec: spec });
  }
  window.vegaEmbed = vegaEmbed;
})();
