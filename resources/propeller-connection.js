/* Connection kind for the Propeller user node dialogs (load, terminal, ports). Loaded by each editor file:
 *   <script src="resources/@labwire/node-red-instruments/propeller-connection.js"></script>
 * and wired in oneditprepare with labwirePropellerConnection(), which shows the launcher rows
 * (.propeller-launcher-row) or the serial rows (.propeller-serial-row) for #node-input-connectionType.
 * onChange(serial), when given, runs after each toggle so a dialog can show or hide its own extras.
 * With the node, a node saved before the select existed (config version 1, as the runtime migrates
 * it) gets the kind of the field that is set, the Launcher when both are. */
(function () {
  'use strict';
  window.labwirePropellerConnection = function (onChange, node) {
    var kind = $('#node-input-connectionType');
    if (node && node.connectionType !== 'launcher' && node.connectionType !== 'serial')
      kind.val(!node.launcher && node.serial ? 'serial' : 'launcher');
    kind.on('change', function () {
      var serial = kind.val() === 'serial';
      $('.propeller-launcher-row').toggle(!serial);
      $('.propeller-serial-row').toggle(serial);
      if (onChange) onChange(serial);
    });
    kind.trigger('change');
  };
})();
