/* The palette entry of the package's user nodes. Loaded by each user node's editor file:
 *   <script src="resources/@labwire/node-red-instruments/palette.js"></script>
 * and wired in registerType with
 *   paletteLabel: function () { return labwirePaletteLabel(this); },
 *   onpaletteadd: function () { labwirePaletteSearch(this); },
 * Both texts come from the node's catalog ('<type>.paletteLabel', '<type>.paletteSearch'), so they follow the
 * editor's language. */
(function () {
  'use strict';
  // The palette breaks lines at a hyphen and shows the pieces spaced out ("Semi - ATE"); U+2011 looks the same
  // and does not break. The filter then needs the ASCII spelling among the search words.
  window.labwirePaletteLabel = function (def) {
    return def._(def.type + '.paletteLabel').replace(/-/g, '\u2011');
  };

  // Node-RED's palette filter matches only the type and the palette label, not the category: "SwissFEL",
  // "tester", "launcher" or "serial" would find nothing. Add the words people search for.
  window.labwirePaletteSearch = function (def) {
    var key = def.type + '.paletteSearch';
    var words = def._(key);
    if (!words || words === key) return;
    var entry = $('.red-ui-palette-node[data-palette-type="' + def.type + '"]');
    // The filter reads this attribute; what the palette shows was drawn from the label and stays as it is.
    var label = entry.attr('data-palette-label') || '';
    if (label.indexOf(words) === -1) entry.attr('data-palette-label', label + ' ' + words);
  };
})();
