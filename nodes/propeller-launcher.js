module.exports = require('../dist/nodes/propeller-launcher');
