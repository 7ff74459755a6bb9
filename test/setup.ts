import 'aws-sdk-client-mock-vitest/extend';
import { inject } from 'vitest';
import { startCapture } from './secret-scan/capture';

// The suite-wide secret scan (test/secret-scan/global-setup.ts): capture this worker's output.
const secretScanDir = inject('secretScanDir');
if (secretScanDir) startCapture(secretScanDir);
