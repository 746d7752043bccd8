/**
 * The namespace lab: a test cluster of network namespaces on this machine, with a real sshd and
 * bird per node (lab.ts), used by `calico-net lab`, the demo, the benchmark and the tests.
 */
export {
  labUp,
  labDown,
  loadLab,
  nodeExec,
  nodeHost,
  operatorExec,
  startSshd,
  stopSshd,
  startBird,
  stopBird,
  replaceHostKey,
} from './lab';
export type { LabInfo, LabNode, LabOptions } from './lab';
export { missingPrerequisites } from './prerequisites';
export { torUp, torDown, loadTor, vtysh, vtyshJson, startDaemon, stopDaemon, frrInstalled } from './tor';
export type { TorInfo, TorOptions, FrrDaemon } from './tor';
export type { Job } from './prerequisites';
