// `make bench`: the end-to-end servers (a release build: SERVER_PROFILE=release), running
// bench/ instead of tests/.
import config from './playwright.config';

// A release build without configuration refuses to start: leave that server out.
const servers = [config.webServer ?? []].flat().filter((server) => server.name !== 'app-unconfigured');

export default {
  ...config,
  webServer: servers,
  testDir: './bench',
  testMatch: /.*\.bench\.ts/,
  retries: 0,
};
