module.exports = require('../dist/nodes/semiate-command');
