/* Address fields of the package's config dialogs that take a pasted address apart instead of refusing it
 * (http://192.168.0.121:8080 in a Host field becomes Host and Port). Loaded by an editor file:
 *   <script src="resources/@labwire/node-red-instruments/address-field.js"></script>
 * and wired in oneditprepare with window.labwireAddressField($('#node-config-input-host'), split), where
 * split(text) rewrites the dialog's fields and returns true when it changed anything. */
(function () {
  'use strict';
  window.labwireAddressField = function (input, split) {
    // Node-RED validated the field before this handler ran: after a split, a second change validates
    // what is left (and splits nothing more).
    input.on('change', function () {
      if (split(String(input.val()))) input.trigger('change');
    });
    // A paste event fires before the text is in the field.
    input.on('paste', function () {
      setTimeout(function () {
        input.trigger('change');
      }, 0);
    });
  };
})();
