module.exports = require('../dist/nodes/propeller-terminal');
