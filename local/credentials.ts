/** Any credentials do locally (dynalite and fauxqs do not check signatures); the SDK just needs some. */
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
