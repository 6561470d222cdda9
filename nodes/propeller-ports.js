module.exports = require('../dist/nodes/propeller-ports');
