export {
  DataSubject,
  PersonalData,
  personalDataOf,
  type PersonalDataDefinition,
  type PersonalDataOptions,
} from './personal-data.decorators.js';
export {
  MasterKeyError,
  MissingDataSubjectError,
  PersonalDataDefinitionError,
  PersonalDataUnreadableError,
} from './personal-data.errors.js';
export { KeyStore, type StoredDataKey } from './key-store.js';
export { PostgresKeyStore } from './postgres-key-store.js';
export { MasterKey } from './master-key.js';
export {
  checkPersonalDataDefinitions,
  PersonalDataCipher,
  personalDataOfType,
  type PersonalDataCipherOptions,
} from './personal-data-cipher.js';
export { isSealed } from './sealed-value.js';
export { type PersonalDataModuleOptions } from './personal-data.options.js';
export {
  forgetChannel,
  forgetSubject,
  type ForgetReport,
} from './forget-subject.js';
export { followForgotten, type RecordedForgets } from './forgotten-subjects.js';
export {
  PersonalDataService,
  type ForgetListener,
} from './personal-data.service.js';
