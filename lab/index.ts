export {
  labUp,
  missingPrerequisites,
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
