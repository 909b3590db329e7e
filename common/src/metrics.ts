// One prom-client registry per process, default metrics on, every series labelled with its service.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createRegistry(service: string, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return registry;
}
