import { parseDocument } from "yaml";

/**
 * Sets kubelogin's `--login` mode in an AKS "exec" kubeconfig. AKS hands out
 * `--login devicecode`, which waits for a human; CI and the control plane need
 * `workloadidentity`, `spn` or `msi`, SREs `azurecli`. Only kubelogin users change.
 */
export function withKubeloginMode(kubeconfig: string, mode: string): string {
  if (kubeconfig.trim() === "") return kubeconfig;
  const doc = parseDocument(kubeconfig);
  const users = doc.toJS() as { users?: { user?: { exec?: { command?: string; args?: string[] } } }[] };
  for (const [i, u] of (users.users ?? []).entries()) {
    const exec = u.user?.exec;
    if (!exec || !/(^|\/)kubelogin$/.test(exec.command ?? "")) continue;
    const args = [...(exec.args ?? [])];
    const at = args.indexOf("--login");
    if (at >= 0) args.splice(at, 2, "--login", mode);
    else args.push("--login", mode);
    doc.setIn(["users", i, "user", "exec", "args"], args);
  }
  return doc.toString();
}
