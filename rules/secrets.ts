/**
 * Secrets (BGP passwords) never appear in a rendered bird.conf as planned: the content carries
 * a placeholder per secret, the values travel in the sensitive `secrets` map of
 * calico_bird_config, the provider splices them in at apply and masks them again when it reads
 * the file back. Synthesis, the provider and the drift report agree on these forms here.
 */

/** Stands where a secret's value goes. No rendered value can contain "<<" (all are validated). */
export function secretPlaceholder(name: string): string {
  return `<<calico-secret:${name}>>`;
}

const PLACEHOLDER = /<<calico-secret:([A-Za-z0-9_.:-]+)>>/g;

/** What a `password "…"` not matching any declared secret reads back as: changed, never shown. */
export const UNDECLARED_SECRET = '<<calico-secret:hidden, not a declared value>>';

/** The placeholders a content uses that have no value in `secrets`. */
export function missingSecrets(content: string, secrets: Record<string, string> | null | undefined): string[] {
  const missing = new Set<string>();
  for (const m of content.matchAll(PLACEHOLDER)) if (secrets?.[m[1]] === undefined) missing.add(m[1]);
  return [...missing];
}

/** The content with every placeholder replaced by its value, in one pass (values are not rescanned). */
export function spliceSecrets(content: string, secrets: Record<string, string> | null | undefined): string {
  const missing = missingSecrets(content, secrets);
  if (missing.length > 0) throw new Error(`no value for secret ${missing.map((n) => `"${n}"`).join(', ')}`);
  return content.replace(PLACEHOLDER, (_, name: string) => secrets![name]);
}

/**
 * The host's file as the state should show it. Unchanged (the declared content with the declared
 * values) reads back as the declared placeholder content. Otherwise every BIRD `password "…"`
 * shows the placeholder of the declared secret it equals, or UNDECLARED_SECRET: a password
 * changed by hand is a visible change whose value is never shown.
 */
export function maskSecrets(hostContent: string, declaredContent: string, secrets: Record<string, string> | null | undefined): string {
  const values = Object.entries(secrets ?? {});
  if (missingSecrets(declaredContent, secrets).length === 0 && spliceSecrets(declaredContent, secrets) === hostContent) {
    return declaredContent;
  }
  return hostContent.replace(/(\bpassword\s+")([^"\n]*)(")/g, (_, open: string, value: string, close: string) => {
    const declared = values.find(([, v]) => v === value);
    return `${open}${declared ? secretPlaceholder(declared[0]) : UNDECLARED_SECRET}${close}`;
  });
}
