/** Installing the calico provider where Terraform finds it offline (see README.md here). */
export * from './mirror';
export { hash1, lockFileWithProvider, providerLockBlock } from './lock-file';
export { writeStackProvider } from './stack-provider';
export type { StackProviderFiles } from './stack-provider';
export {
  cliConfigFiles,
  providerInstallationAdvice,
  providerInstallationFiles,
  providerInstallationSnippet,
} from './cli-config';
