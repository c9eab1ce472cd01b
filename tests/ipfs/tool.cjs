// Small helpers for ipfs-node.sh, in Node so the harness needs nothing beyond the node/npm
// it already needs for js-ipfs (no jq, curl or python):
//   node tool.cjs ports N                 N distinct free loopback TCP ports, one a line
//   node tool.cjs configure FILE API GW RPC SWARM
//                                         rewrites a js-ipfs config for an isolated node
//   node tool.cjs wait URL SECONDS PID    polls POST URL until it answers 200, the process
//                                         PID dies (exit 1) or SECONDS pass (exit 1)
'use strict';
const fs = require('fs');
const net = require('net');

function fail(msg) {
  process.stderr.write(`ipfs-node: ${msg}\n`);
  process.exit(1);
}

async function ports(n) {
  // Holding every socket open until all are bound keeps the N ports distinct.
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = net.createServer();
    await new Promise((resolve, reject) => {
      s.once('error', reject);
      s.listen(0, '127.0.0.1', resolve);
    });
    servers.push(s);
  }
  const out = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  process.stdout.write(out.join('\n') + '\n');
}

function configure(file, api, gw, rpc, swarm) {
  const c = JSON.parse(fs.readFileSync(file, 'utf8'));
  c.Addresses = c.Addresses || {};
  c.Addresses.API = `/ip4/127.0.0.1/tcp/${api}`;
  c.Addresses.Gateway = `/ip4/127.0.0.1/tcp/${gw}`;
  c.Addresses.RPC = `/ip4/127.0.0.1/tcp/${rpc}`;
  c.Addresses.Swarm = [`/ip4/127.0.0.1/tcp/${swarm}`];
  c.Addresses.Announce = [];
  c.Addresses.Delegates = [];
  c.Bootstrap = [];
  c.Discovery = c.Discovery || {};
  c.Discovery.MDNS = Object.assign({}, c.Discovery.MDNS, { Enabled: false });
  c.Discovery.webRTCStar = Object.assign({}, c.Discovery.webRTCStar, { Enabled: false });
  c.Swarm = Object.assign({}, c.Swarm, { DisableNatPortMap: true });
  fs.writeFileSync(file + '.tmp', JSON.stringify(c, null, 2));
  fs.renameSync(file + '.tmp', file);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

async function wait(url, seconds, pid) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    try {
      const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(2000) });
      if (res.status === 200) {
        await res.text();
        return;
      }
    } catch (e) {
      // not listening yet
    }
    if (!alive(pid))
      fail(`daemon (pid ${pid}) exited before ${url} answered`);
    if (Date.now() > deadline)
      fail(`${url} did not answer within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const [cmd, ...args] = process.argv.slice(2);
(async () => {
  if (cmd === 'ports' && args.length === 1)
    await ports(Number(args[0]));
  else if (cmd === 'configure' && args.length === 5)
    configure(...args);
  else if (cmd === 'wait' && args.length === 3)
    await wait(args[0], Number(args[1]), Number(args[2]));
  else
    fail(`tool.cjs: bad usage: ${process.argv.slice(2).join(' ')}`);
})().catch((e) => fail(e.message));
