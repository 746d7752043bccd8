// The __CDK__ app (cdktf.json runs `node main.js`): one stack (one per rack with
// `sharding: byRack`) from the inventory named by CALICO_INVENTORY, default ./cluster.yaml. Extend it with the constructs, for example:
//
//   const { Workload } = require('cdktf-calico');
//   const cluster = stack.node.findChild('cluster');          // the CalicoCluster
//   new Workload(cluster.node.findChild('node1'), 'db', { name: 'db', ip: '10.244.1.3' });
//
// or build a stack from scratch with CalicoCluster, CalicoNode, Workload and BgpPeer.
const path = require('path');
const { App } = require('__CDK__');
const {
  buildClusterStacks,
  loadInventory,
  ClusterValidationError,
  recoverKilledLocalStates,
  StateRecoveryError,
} = require('cdktf-calico');

const inventory = path.resolve(process.env.CALICO_INVENTORY || 'cluster.yaml');
try {
  const app = new App();
  const [stack] = buildClusterStacks(app, loadInventory(inventory));
  void stack; // add your own constructs to `stack` here
  app.synth();
  // A local state file a killed terraform left empty is put back from Terraform's .backup.
  recoverKilledLocalStates(app.outdir, (message) => console.log(`calico-net: ${message}`));
} catch (err) {
  if (err instanceof StateRecoveryError) {
    process.stderr.write(`calico-net: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    if (!(err instanceof ClusterValidationError)) throw err;
    process.stderr.write(`invalid inventory ${inventory}:\n  ${err.problems.join('\n  ')}\n`);
    process.exitCode = 1;
  }
}
