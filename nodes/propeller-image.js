module.exports = require('../dist/nodes/propeller-image');
