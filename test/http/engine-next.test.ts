/**
 * A reminder that fails on purpose: once the engine has issue 6's API, the declarations
 * in src/http/engine-next.ts would hide a mismatch between what the routes call and what
 * the engine offers. Delete that file (and the guards on ENGINE_HAS_JOURNAL) then.
 */
import { describe, expect, it } from 'vitest';
import { ENGINE_HAS_JOURNAL } from '../../src/http/engine-next.js';

describe('src/http/engine-next.ts', () => {
  it('is still needed: the engine does not have changes() and snapshot() yet', () => {
    expect(
      ENGINE_HAS_JOURNAL,
      'the engine has its journal now: delete src/http/engine-next.ts and typecheck the routes against it',
    ).toBe(false);
  });
});
