// `make bench`: the end-to-end servers (a release build: SERVER_PROFILE=release), running
// bench/ instead of tests/.
import config from './playwright.config';

export default {
  ...config,
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  retries: 0,
};
