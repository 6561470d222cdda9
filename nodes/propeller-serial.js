module.exports = require('../dist/nodes/propeller-serial');
