/* The connection part of the Propeller user node dialogs (load, terminal, ports): a Launcher or a serial
 * config node. Loaded by each editor file:
 *   <script src="resources/@labwire/node-red-instruments/propeller-connection.js"></script>
 * The edit template holds <div class="labwire-propeller-connection"></div> where the rows go; the editor file
 *   - lists connectionType, launcher and serial in its defaults (inline: the flow library reads them), each
 *     config node validated with labwirePropellerConnection.chosen('launcher' | 'serial') and not `required: false`
 *   - fills the template once, after registerType: labwirePropellerConnection.rows('<type>')
 *   - wires the rows in oneditprepare: labwirePropellerConnection(onChange, node), which shows the launcher
 *     row or the serial row for #node-input-connectionType; onChange(serial), when given, runs after each
 *     toggle so a dialog can show or hide its own extras. With the node, a node saved before the select
 *     existed (config version 1, as the runtime migrates it) gets the kind of the field that is set, the
 *     Launcher when both are.
 * Labels come from the node's own catalog: <type>.label.connectionType|launcher|serial, <type>.connectionType.*. */
(function () {
  'use strict';
  var PLACEHOLDER = '<div class="labwire-propeller-connection"></div>';

  function row(type, name, icon, field) {
    var label = $('<label>').attr('for', 'node-input-' + name);
    label.append($('<i>').addClass('fa ' + icon), ' ', $('<span>').attr('data-i18n', type + '.label.' + name));
    return $('<div class="form-row">').append(label, field);
  }

  function connectionRows(type) {
    var kind = $('<select id="node-input-connectionType" style="width: 70%;">').append(
      $('<option value="launcher">').attr('data-i18n', type + '.connectionType.launcher'),
      $('<option value="serial">').attr('data-i18n', type + '.connectionType.serial'),
    );
    return [
      row(type, 'connectionType', 'fa-exchange', kind),
      row(type, 'launcher', 'fa-globe', $('<input type="text" id="node-input-launcher">')).addClass('propeller-launcher-row'),
      row(type, 'serial', 'fa-random', $('<input type="text" id="node-input-serial">')).addClass('propeller-serial-row'),
    ]
      .map(function (el) {
        return el.prop('outerHTML');
      })
      .join('\n');
  }

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

  /**
   * Validator of the launcher or serial property: a config node is required only for the chosen connection kind, and it
   * must exist and be valid itself (what Node-RED checks of a config property without a validator of its own). List the
   * property without `required: false`: Node-RED calls no validator on an empty optional value, and the node would show
   * no red triangle and no deploy warning while it cannot work.
   */
  window.labwirePropellerConnection.chosen = function (kind) {
    return function (v) {
      if ((this.connectionType === 'serial') !== (kind === 'serial')) return true;
      if (!v || v === '_ADD_') return false;
      var config = RED.nodes.node(v);
      return !!config && config.valid !== false;
    };
  };

  /** Put the connection rows into the type's edit template, where its placeholder is. */
  window.labwirePropellerConnection.rows = function (type) {
    var template = $('script[data-template-name="' + type + '"]');
    var text = template.html() || '';
    if (text.indexOf(PLACEHOLDER) === -1) throw new Error(type + ': the edit template has no ' + PLACEHOLDER + ' for the connection rows');
    template.text(text.replace(PLACEHOLDER, connectionRows(type)));
  };
})();
