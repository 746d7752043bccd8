/** Handler outcomes → tfplugin6.Diagnostic objects (plain objects for protobufjs.fromObject). */
import { ValueError } from './codec';
import type { WireAttributePath, WireDiagnostic } from './protocol';
import { AttributePath, Diagnostic, ProviderError } from './resource';

export type { WireDiagnostic } from './protocol';

export function wirePath(path: AttributePath): WireAttributePath {
  return {
    steps: path.map((step) =>
      typeof step === 'number'
        ? { element_key_int: step }
        : typeof step === 'object'
          ? { element_key_string: step.mapKey }
          : { attribute_name: step },
    ),
  };
}

export function toWire(d: Diagnostic): WireDiagnostic {
  return {
    severity: d.severity === 'warning' ? 2 : 1,
    summary: d.summary,
    detail: d.detail ?? '',
    ...(d.attribute && d.attribute.length ? { attribute: wirePath(d.attribute) } : {}),
  };
}

export function errorDiagnostic(summary: string, detail = '', attribute?: AttributePath): WireDiagnostic {
  return toWire({ severity: 'error', summary, detail, attribute });
}

/** ProviderError keeps its summary, detail and path; anything else becomes an error with its message. */
export function diagnosticFromError(err: unknown, context: string): WireDiagnostic {
  if (err instanceof ProviderError) {
    return toWire({
      severity: 'error',
      summary: err.summary,
      detail: err.options.detail,
      attribute: err.options.attribute,
    });
  }
  if (err instanceof ValueError) {
    return errorDiagnostic(`${context}: invalid value`, err.message, err.path.length ? err.path : undefined);
  }
  const message = err instanceof Error ? err.message : String(err);
  return errorDiagnostic(`${context}: ${message}`);
}
