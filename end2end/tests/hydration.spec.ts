import { expect, test } from '@playwright/test';
import { hydrated } from './helpers/app';

test('the home page hydrates and its counter counts', async ({ page }) => {
  await page.goto('/');
  await hydrated(page);
  const counter = page.locator('#counter');
  await expect(counter).toHaveText('Clicked 0 times');
  await counter.click();
  await counter.click();
  await expect(counter).toHaveText('Clicked 2 times');
});
