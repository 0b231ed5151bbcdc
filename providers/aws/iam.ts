import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/*
 * IAM roles of a cell: roles AWS services assume (EKS, EC2 nodes, VPC flow logs)
 * and IRSA roles that exactly one Kubernetes service account of one cluster may
 * assume through the cluster's IAM OIDC provider. No static keys anywhere.
 */

/** An IAM policy document as JSON; leaves may be Outputs (ARNs). */
export type PolicyDocument = { Version: "2012-10-17"; Statement: Record<string, unknown>[] };

export function policyJson(statements: Record<string, unknown>[]): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements });
}

/** A role an AWS service assumes, with managed policies attached by ARN (keyed by a stable suffix). */
export function serviceRole(
  name: string,
  args: { roleName: string; service: string; managedPolicies: Record<string, string>; tags: Record<string, string> },
  opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
  const role = new aws.iam.Role(
    name,
    {
      name: args.roleName,
      assumeRolePolicy: policyJson([{ Effect: "Allow", Principal: { Service: args.service }, Action: ["sts:AssumeRole", ...(args.service === "eks.amazonaws.com" ? ["sts:TagSession"] : [])] }]),
      tags: args.tags,
    },
    opts,
  );
  for (const [key, policyArn] of Object.entries(args.managedPolicies)) {
    new aws.iam.RolePolicyAttachment(`${name}-${key}`, { role: role.name, policyArn }, opts);
  }
  return role;
}

/**
 * An IRSA role: trusted by one cluster's OIDC provider, for one service account
 * (`<issuer>:sub` = system:serviceaccount:ns:sa, `<issuer>:aud` = sts.amazonaws.com).
 * Source: EKS user guide, "Assign IAM roles to Kubernetes service accounts".
 */
export function irsaRole(
  name: string,
  args: {
    roleName: string;
    oidcProviderArn: pulumi.Input<string>;
    /** The issuer URL without https://. */
    issuerHost: pulumi.Input<string>;
    namespace: string;
    serviceAccount: string;
    /** The role's inline policy. */
    policy?: pulumi.Input<string>;
    /** AWS managed policies, keyed by a stable suffix. */
    managedPolicies?: Record<string, string>;
    tags: Record<string, string>;
  },
  opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
  const trust = pulumi.all([args.oidcProviderArn, args.issuerHost]).apply(([arn, host]) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: { StringEquals: { [`${host}:sub`]: `system:serviceaccount:${args.namespace}:${args.serviceAccount}`, [`${host}:aud`]: "sts.amazonaws.com" } },
        },
      ],
    }),
  );
  const role = new aws.iam.Role(name, { name: args.roleName, assumeRolePolicy: trust, tags: args.tags }, opts);
  if (args.policy !== undefined) new aws.iam.RolePolicy(`${name}-policy`, { role: role.name, policy: args.policy }, opts);
  for (const [key, policyArn] of Object.entries(args.managedPolicies ?? {})) {
    new aws.iam.RolePolicyAttachment(`${name}-${key}`, { role: role.name, policyArn }, opts);
  }
  return role;
}
