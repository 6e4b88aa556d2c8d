// Preloaded (`node --require`) into the Node apps of the native stack: a server started without a
// host listens on loopback, not on every interface (Marquez's web UI gives only a port).
const net = require('net');

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const portOnly = typeof args[0] === 'number' || /^\d+$/.test(String(args[0]));
  if (portOnly && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
