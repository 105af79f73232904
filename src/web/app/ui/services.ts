// What components need from outside (renderers, the clock), passed down from main.tsx
// through one context rather than imported as module singletons.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { DiffRenderer } from '../render/diff.js';
import type { Markdown } from '../render/markdown.js';
import type { Viz } from '../render/viz.js';

export interface Services {
  markdown: Markdown;
  diff: DiffRenderer;
  viz: Viz;
  now(): number;
}

export const ServicesContext = createContext<Services | undefined>(undefined);

export function useServices(): Services {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('ServicesContext is not provided');
  return s;
}
