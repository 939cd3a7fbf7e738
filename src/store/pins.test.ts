import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempStore, type TempStore } from '../../test/helpers/store.js';
import { waitFor } from '../../test/helpers/wait.js';

let temp: TempStore;
beforeEach(() => {
  temp = tempStore({ pollMs: 10 });
});
afterEach(() => temp.close());

describe('pinned tool definitions', () => {
  it('keep the first definition and a pending one until it is approved, which others hear of', async () => {
    const { pins } = temp.store;
    pins.record('s', 't', 'sha256:one', { description: 'one' });
    pins.record('s', 't', 'sha256:ignored', { description: 'ignored' });
    expect(pins.get('s', 't')).toMatchObject({ hash: 'sha256:one', definition: { description: 'one' }, pending: undefined });

    pins.setPending('s', 't', { hash: 'sha256:two', definition: { description: 'two' } });
    expect(pins.get('s', 't')?.pending).toMatchObject({ hash: 'sha256:two', definition: { description: 'two' } });
    expect(pins.approve('s', 'other')).toEqual([]);

    // Another connection, as the CLI in another process, approves; the first hears of it.
    let heard = 0;
    const stop = temp.store.onChange(() => heard++);
    const approved = temp.reopen().pins.approve('s');
    expect(approved.map((pin) => [pin.tool, pin.hash, pin.pending])).toEqual([['t', 'sha256:two', undefined]]);
    await waitFor(() => heard > 0);
    stop();
    expect(pins.get('s', 't')).toMatchObject({ hash: 'sha256:two', definition: { description: 'two' } });
    expect(pins.approve('s')).toEqual([]);

    pins.setPending('s', 't', { hash: 'sha256:three', definition: {} });
    pins.setPending('s', 't', undefined);
    expect(pins.list('s').map((pin) => pin.pending)).toEqual([undefined]);
  });
});

describe('project rules', () => {
  it('are kept beside the project, checked, replaced whole, and go with it', () => {
    const { projects } = temp.store;
    projects.create({ slug: 'p' });
    const updated = projects.setRules('p', 'github', { tools: { deny: ['delete_*'] }, overrides: { a: { name: 'b' } } });
    expect(updated.rules).toEqual({ github: { tools: { deny: ['delete_*'] }, overrides: { a: { name: 'b' } } } });
    expect(projects.setRules('p', 'github', { prompts: { allow: ['x'] } }).rules).toEqual({ github: { prompts: { allow: ['x'] } } });
    expect(() => projects.setRules('p', 'github', { overrides: { a: { name: 'not a name' } } })).toThrow();
    expect(projects.setRules('p', 'github', null).rules).toEqual({});
    projects.setRules('p', 'github', { prompts: { allow: ['x'] } });
    projects.delete('p');
    projects.create({ slug: 'p' });
    expect(projects.require('p').rules).toEqual({});
  });
});
