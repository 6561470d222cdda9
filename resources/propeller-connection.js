/* Connection kind for the Propeller user node dialogs (load, terminal, ports). Loaded by each editor file:
 *   <script src="resources/@labwire/node-red-instruments/propeller-connection.js"></script>
 * and wired in oneditprepare with labwirePropellerConnection(), which shows the launcher rows
 * (.propeller-launcher-row) or the serial rows (.propeller-serial-row) for #node-input-connectionType.
 * onChange(serial), when given, runs after each toggle so a dialog can show or hide its own extras. */
(function () {
  'use strict';
  window.labwirePropellerConnection = function (onChange) {
    var kind = $('#node-input-connectionType');
    kind.on('change', function () {
      var serial = kind.val() === 'serial';
      $('.propeller-launcher-row').toggle(!serial);
      $('.propeller-serial-row').toggle(serial);
      if (onChange) onChange(serial);
    });
    kind.trigger('change');
  };
})();
