// TypeBox helpers for Kubernetes structural schemas. The API's TypeScript types and its CRD's OpenAPI
// schema come from the same TypeBox definitions, so they cannot drift apart; these helpers cover what
// Kubernetes schemas spell differently from plain JSON Schema (enums instead of const unions,
// int-or-string quantities, opaque embedded Kubernetes types).
import Type, { type TSchema, type TUnsafe } from 'typebox';

/** A string from a fixed set: `enum` (Kubernetes schemas have no `const`/`anyOf` of literals). */
export function StringEnum<T extends string>(
  values: readonly T[],
  options: { description: string; default?: T },
): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });
}

/** A resource quantity (`10Gi`, `500m`, `2`): Kubernetes' int-or-string. */
export function Quantity(options: { description: string; default?: string }): TUnsafe<string | number> {
  return Type.Unsafe<string | number>({
    'x-kubernetes-int-or-string': true,
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern:
      '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    ...options,
  });
}

/**
 * An embedded Kubernetes type the operator passes through to the pods it builds (affinity, tolerations,
 * a claim template): validated by the API server when it reaches the pod, not duplicated here.
 */
export function Embedded<T = Record<string, unknown>>(options: { description: string }): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...options });
}

/** A resource name → quantity map (requests, limits). */
export function QuantityMap(options: { description: string }): TUnsafe<Record<string, string | number>> {
  return Type.Unsafe<Record<string, string | number>>({
    type: 'object',
    additionalProperties: Quantity({ description: 'A resource quantity.' }),
    ...options,
  });
}

/** A string → string map (labels, annotations, node selectors, extra flags). */
export function StringMap(options: {
  description: string;
  maxProperties?: number;
}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    ...options,
  });
}

/** A CEL validation rule (`x-kubernetes-validations`), with the message users see when it fails. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** Makes a rule a transition rule that may refer to `oldSelf`. */
  optionalOldSelf?: boolean;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
}

export function withRules<S extends TSchema>(schema: S, rules: ValidationRule[]): S {
  // A copy with every property descriptor: TypeBox keeps its kind in a non-enumerable property, which a
  // spread would drop (and with it defaulting and checking below this schema).
  const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(schema)) as S;
  return Object.assign(copy, { 'x-kubernetes-validations': rules });
}
