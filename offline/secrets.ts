/*
 * Pulumi's secret envelopes in deserialized values. No Pulumi import: the plan renderer
 * and the CLI use these without loading the SDK.
 */

/** Pulumi's wire envelope of a secret value: {[SECRET_SIG_KEY]: SECRET_SIG, value}. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecret = (v: any): boolean => v?.[SECRET_SIG_KEY] === SECRET_SIG;

/** Unwraps Pulumi's secret envelopes in deserialized values, reporting whether any were found. */
export function unwrapSecrets(value: any): { value: any; secret: boolean } {
  let secret = false;
  const walk = (v: any): any => {
    if (v && typeof v === "object") {
      if (isSecret(v)) {
        secret = true;
        return walk(v.value);
      }
      if (Array.isArray(v)) return v.map(walk);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return { value: walk(value), secret };
}

/** Replaces secret values with "[secret]", for output that is printed or written to files. */
export function maskSecrets(value: any): any {
  if (value && typeof value === "object") {
    if (isSecret(value)) return "[secret]";
    if (Array.isArray(value)) return value.map(maskSecrets);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskSecrets(v)]));
  }
  return value;
}
