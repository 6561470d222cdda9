/* "Test connection" for the package's config node dialogs. Loaded by each config node's editor file:
 *   <script src="resources/@labwire/node-red-instruments/test-connection.js"></script>
 * and wired in oneditprepare with labwireTestConnection(this, 'node-type', this._('node-type.test.button')).
 * It sends the dialog's current values (not the deployed ones) to the runtime's admin endpoint. */
(function () {
  'use strict';
  function collect(node, type) {
    var def = RED.nodes.getType(type);
    var config = {};
    var credentials = {};
    Object.keys(def.defaults || {}).forEach(function (key) {
      var input = $('#node-config-input-' + key);
      if (input.length) config[key] = input.is(':checkbox') ? input.is(':checked') : input.val();
    });
    Object.keys(def.credentials || {}).forEach(function (key) {
      var input = $('#node-config-input-' + key);
      if (input.length) credentials[key] = input.val();
    });
    return { id: node.id, config: config, credentials: credentials };
  }

  // label: the button text in the user's language, e.g. this._('bpwin-server.test.button') from oneditprepare.
  window.labwireTestConnection = function (node, type, label) {
    // A flex row: a long answer wraps in its own column beside the button, not underneath it.
    var row = $(
      '<div class="form-row labwire-test-connection" style="display: flex; align-items: baseline;"><label style="flex: none;"></label></div>',
    );
    var button = $('<button type="button" class="red-ui-button"><i class="fa fa-plug"></i> </button>');
    button.append(document.createTextNode(label || 'Test connection'));
    button.css('flex', 'none');
    var result = $(
      '<span class="labwire-test-connection-result" style="margin-left: 10px; flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere;"></span>',
    );
    row.append(button).append(result);
    $('#node-config-dialog-edit-form').append(row);
    button.on('click', function () {
      result.css('color', '').text('…');
      button.prop('disabled', true);
      $.ajax({
        url: 'labwire-instruments/' + type + '/test',
        type: 'POST',
        contentType: 'application/json',
        data: JSON.stringify(collect(node, type)),
      })
        .done(function (answer) {
          result
            .css('color', answer.ok ? 'var(--red-ui-text-color-success, #3a3)' : 'var(--red-ui-text-color-error, #c00)')
            .text((answer.ok ? '✓ ' : '✗ ') + answer.message);
        })
        .fail(function (xhr) {
          result.css('color', 'var(--red-ui-text-color-error, #c00)').text('✗ HTTP ' + xhr.status);
        })
        .always(function () {
          button.prop('disabled', false);
        });
    });
  };
})();
