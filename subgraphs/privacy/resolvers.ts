// privacy serves one small field of its own: the platform's privacy notice. Its real
// contribution is the directives (./directives/*.js) the gateway runs for every extension.
import type { ExtensionResolvers } from '../sdk/index.js';

export interface PrivacyNoticeRecord {
  version: string;
  updatedAt: string;
  contact: string;
}

export const PRIVACY_NOTICE: Readonly<PrivacyNoticeRecord> = Object.freeze({
  version: '2024-06',
  updatedAt: '2024-06-01T09:30:00Z',
  contact: 'dpo@privacy.example.com',
});

export const resolvers: ExtensionResolvers = {
  Query: {
    privacyNotice: (): PrivacyNoticeRecord => ({ ...PRIVACY_NOTICE }),
  },
};
