import { expect } from "chai";
import { IPv4, IPv4CidrRange } from "ip-num";
import { program } from "../cells/program";
import { validateConfig } from "../cells/config";
import { AWS_NAME_RULES, eniMaxPods } from "../cells/plan/clouds/aws";
import { flowAllows, ingressAllows, INGRESS } from "../cells/plan/isolation";
import { nameProblem } from "../cells/plan/naming";
import { ROLES, Role } from "../cells/plan/model";
import { awsSecurityGroupsAdmit } from "../policies/lib/reachabilityAws";
import { RULE_SET_VIEWS } from "../policies/views/network";
import { subjectOf, viewsOf } from "../policies/lib/policy";
import { OfflineViolation, RecordedResource, runPolicies } from "../policies/offline";
import { EKS_POLICIES } from "../policies/eks";
import { POLICIES } from "../policies/policies";
import { awsMocks } from "../providers/aws/mocks";
import { Registration, runProgram, RunResult, unwrapSecrets } from "../offline/run";
import { exampleRaw, expectAddedCellTouchesNothingElse, flatFromRaw, sharedRun } from "./helpers";
import { policyNamed } from "./policy-helpers";

/*
 * The AWS cell under strict mocks: one mocked run of prod-aws shared by every
 * case (the `before` hook), asserting what AWS receives; the policy cases break
 * a copy of the same run's resources.
 */

const of = (run: RunResult, type: string) => run.registrations.filter((r) => r.type === `aws:${type}`);
const cellOf = (r: Registration) => r.name.split("-")[0];
const roleOfName = (name: string): Role => [...ROLES].sort((a, b) => b.length - a.length).find((r) => name.includes(`-${r}-`))!;
const byId = (run: RunResult) => new Map(run.registrations.filter((r) => r.id).map((r) => [r.id!, r]));
const byUrn = (run: RunResult) => new Map(run.registrations.map((r) => [r.urn, r]));
const sample = (cidr: string, offset = 4n) => IPv4.fromNumber(IPv4CidrRange.fromCidr(cidr).getFirst().getValue() + offset).toString();

type Rec = Omit<RecordedResource, "inputs"> & { inputs: Record<string, any> };

describe("AWS cell under strict mocks (prod-aws)", function () {
  this.timeout(180_000);
  let run: RunResult;
  let resources: Rec[];
  const cells = ["c001", "c002"];
  const plans = (() => {
    const v = validateConfig(exampleRaw("prod-aws"));
    if (!v.ok) throw new Error("prod-aws must validate");
    return v.value.plans;
  })();

  before(async () => {
    // The one mocked run of prod-aws the suite shares (golden, policy helpers).
    run = await sharedRun("prod-aws");
    resources = run.registrations.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs).value }));
  });

  /** Violations of one policy over a copy of the run with `fn` applied to the resource named `name`. */
  async function broken(policy: string, name: string, fn: (r: Rec, all: Rec[]) => void): Promise<OfflineViolation[]> {
    const copy = structuredClone(resources);
    const target = copy.find((r) => r.name === name);
    if (!target) throw new Error(`no resource ${name}`);
    fn(target, copy);
    return (await runPolicies(copy, { policies: [policyNamed(policy)] })).violations;
  }

  describe("network", () => {
    it("registers per cell 1 VPC, 3 public and 18 role subnets on AZ IDs, 3 EIPs and NAT gateways, 4 route tables, an S3 endpoint and flow logs", () => {
      for (const cell of cells) {
        const count = (type: string) => of(run, type).filter((r) => cellOf(r) === cell).length;
        expect(count("ec2/vpc:Vpc"), cell).to.equal(1);
        expect(count("ec2/subnet:Subnet"), cell).to.equal(21);
        expect(count("ec2/eip:Eip"), cell).to.equal(3);
        expect(count("ec2/natGateway:NatGateway"), cell).to.equal(3);
        expect(count("ec2/routeTable:RouteTable"), cell).to.equal(4);
        expect(count("ec2/routeTableAssociation:RouteTableAssociation"), cell).to.equal(21);
        expect(count("ec2/vpcEndpoint:VpcEndpoint"), cell).to.equal(1);
        expect(count("ec2/flowLog:FlowLog"), cell).to.equal(1);
        expect(count("eks/cluster:Cluster"), cell).to.equal(3);
        expect(count("eks/nodeGroup:NodeGroup"), cell).to.equal(18);
      }
      const vpc = of(run, "ec2/vpc:Vpc").find((r) => cellOf(r) === "c001")!;
      expect(vpc.inputs).to.include({ cidrBlock: "10.128.0.0/16", enableDnsHostnames: true, enableDnsSupport: true });
      expect(vpc.protect).to.equal(true);
      for (const eip of of(run, "ec2/eip:Eip")) expect(eip.protect, eip.name).to.equal(true);
      const flow = of(run, "ec2/flowLog:FlowLog").find((r) => cellOf(r) === "c001")!;
      expect(flow.inputs).to.include({ vpcId: vpc.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs" });
    });

    it("gives every subnet the AZ ID and CIDR of its IP plan slot", () => {
      for (const s of of(run, "ec2/subnet:Subnet")) {
        const cell = cellOf(s);
        const planned = plans[cell].subnets.find((p) => s.inputs.cidrBlock === p.cidr)!;
        expect(planned, s.name).to.not.equal(undefined);
        expect(s.inputs.availabilityZoneId, s.name).to.equal(planned.zone);
        expect(s.inputs.availabilityZone, s.name).to.equal(undefined);
        expect(s.inputs.tags.kind, s.name).to.equal(planned.kind);
        if (planned.role) expect(s.inputs.tags.role).to.equal(planned.role);
      }
    });

    it("routes each AZ's private subnets to the NAT gateway in that AZ's public subnet, and the S3 endpoint sits on the private tables", () => {
      const ids = byId(run);
      const assoc = of(run, "ec2/routeTableAssociation:RouteTableAssociation");
      for (const s of of(run, "ec2/subnet:Subnet").filter((x) => x.inputs.tags.kind !== "public")) {
        const a = assoc.filter((x) => x.inputs.subnetId === s.id);
        expect(a, s.name).to.have.length(1);
        const table = ids.get(a[0].inputs.routeTableId)!;
        const route = table.inputs.routes.find((r: any) => r.cidrBlock === "0.0.0.0/0");
        const nat = ids.get(route.natGatewayId)!;
        const natSubnet = ids.get(nat.inputs.subnetId)!;
        expect(natSubnet.inputs.availabilityZoneId, s.name).to.equal(s.inputs.availabilityZoneId);
        expect(natSubnet.inputs.tags.kind).to.equal("public");
        expect(cellOf(nat)).to.equal(cellOf(s));
        expect(ids.get(nat.inputs.allocationId)!.type).to.equal("aws:ec2/eip:Eip");
      }
      for (const cell of cells) {
        const endpoint = of(run, "ec2/vpcEndpoint:VpcEndpoint").find((r) => cellOf(r) === cell)!;
        expect(endpoint.inputs).to.include({ serviceName: "com.amazonaws.us-west-2.s3", vpcEndpointType: "Gateway" });
        const privateTables = of(run, "ec2/routeTable:RouteTable").filter((t) => cellOf(t) === cell && t.name.endsWith("-private-rt")).map((t) => t.id);
        expect([...endpoint.inputs.routeTableIds].sort()).to.deep.equal(privateTables.sort());
      }
      // Public subnets: out through the internet gateway, tagged for the load balancer controller and all three clusters.
      for (const s of of(run, "ec2/subnet:Subnet").filter((x) => x.inputs.tags.kind === "public")) {
        expect(s.inputs.tags["kubernetes.io/role/elb"]).to.equal("1");
        for (const role of ROLES) expect(s.inputs.tags[`kubernetes.io/cluster/cellplane-${cellOf(s)}-${role}`], s.name).to.equal("shared");
      }
    });
  });

  describe("isolation", () => {
    /** The inbound rules of the groups an interface carries, through the policy pack's own view. */
    const rulesOf = (groupIds: string[]) => {
      const ids = byId(run);
      return groupIds.flatMap((id) => (viewsOf(RULE_SET_VIEWS, subjectOf({ ...ids.get(id)!, props: ids.get(id)!.inputs })) ?? []).flatMap((v) => v.rules));
    };

    it("reachability between the role subnets, computed from the registered security groups, equals the isolation matrix", () => {
      const ids = byId(run);
      const ports = [22, 53, 443, 2379, 4240, 6443, 8123, 8443, 9000, 9004, 9005, 9181, 9363, 9440, 10250, 15017, 15021];
      for (const cell of cells) {
        const subnets = plans[cell].subnets.filter((s) => s.role !== null);
        // Nodes carry their launch template's groups; pods the groups of Cilium's CNI config.
        for (const ng of of(run, "eks/nodeGroup:NodeGroup").filter((r) => cellOf(r) === cell)) {
          const dstRole = roleOfName(ng.name);
          const lt = ids.get(ng.inputs.launchTemplate.id)!;
          const rules = rulesOf(lt.inputs.vpcSecurityGroupIds);
          const dst = sample(ids.get(ng.inputs.subnetIds[0])!.inputs.cidrBlock);
          for (const src of subnets) {
            for (const port of ports) {
              const actual = awsSecurityGroupsAdmit(rules, { source: sample(src.cidr), destination: dst, protocol: "tcp", port });
              expect(actual, `${cell} ${src.role}/${src.kind} -> ${ng.name} tcp/${port}`).to.equal(flowAllows(src.role!, dstRole, "tcp", port));
            }
          }
        }
      }
      const configMaps = run.registrations.filter((r) => r.type === "kubernetes:core/v1:ConfigMap");
      expect(configMaps).to.have.length(6);
      for (const cm of configMaps) {
        const eni = JSON.parse(cm.inputs.data["cni-config"]).plugins[0].eni;
        const role = roleOfName(cm.name);
        const cell = cellOf(cm);
        expect(eni["first-interface-index"]).to.equal(1);
        const podSubnets = eni["subnet-ids"].map((id: string) => ids.get(id)!);
        expect(podSubnets.map((s: Registration) => [s.inputs.tags.role, s.inputs.tags.kind])).to.deep.equal([[role, "pods"], [role, "pods"], [role, "pods"]]);
        const rules = rulesOf(eni["security-groups"]);
        for (const src of plans[cell].subnets.filter((s) => s.role !== null)) {
          for (const port of [443, 8443, 9000, 9181, 9440, 10250]) {
            expect(awsSecurityGroupsAdmit(rules, { source: sample(src.cidr), destination: sample(podSubnets[0].inputs.cidrBlock), protocol: "tcp", port }), `${cm.name} from ${src.role} ${port}`).to.equal(
              flowAllows(src.role!, role, "tcp", port),
            );
          }
        }
      }
    });

    it("admits from outside the VPC only through the NLB: ingress ports and health checks from the public subnets, nothing from the Internet directly", () => {
      const ids = byId(run);
      for (const ng of of(run, "eks/nodeGroup:NodeGroup").filter((r) => cellOf(r) === "c001")) {
        const role = roleOfName(ng.name);
        const rules = rulesOf(ids.get(ng.inputs.launchTemplate.id)!.inputs.vpcSecurityGroupIds);
        const publicSubnet = plans.c001.subnets.find((s) => s.kind === "public")!;
        for (const port of [22, 80, 443, 8443, 9000, 9440, 15021]) {
          const probe = (source: string) => awsSecurityGroupsAdmit(rules, { source, destination: "10.128.0.10", protocol: "tcp", port });
          expect(probe("198.51.100.7"), `${ng.name} Internet ${port}`).to.equal(false);
          const viaNlb = ingressAllows(role, "tcp", port) || (port === 15021 && INGRESS.some((i) => i.role === role));
          expect(probe(sample(publicSubnet.cidr)), `${ng.name} NLB ${port}`).to.equal(viaNlb);
        }
      }
    });

    it("keeps every security group within EC2's quotas", () => {
      for (const sg of of(run, "ec2/securityGroup:SecurityGroup")) {
        const rules = sg.inputs.ingress.reduce((n: number, r: any) => n + r.cidrBlocks.length, 0);
        expect(rules, sg.name).to.be.at.most(60);
      }
      for (const lt of of(run, "ec2/launchTemplate:LaunchTemplate")) expect(lt.inputs.vpcSecurityGroupIds.length).to.be.at.most(5);
    });
  });

  describe("clusters", () => {
    it("creates EKS clusters without self-managed add-ons, with API access entries, KMS, logs and a restricted public endpoint that admits the NAT addresses", () => {
      const ids = byId(run);
      for (const c of of(run, "eks/cluster:Cluster")) {
        const cell = cellOf(c);
        const role = roleOfName(`${c.name}-`.replace(/-eks-$/, "-"));
        expect(c.inputs.name).to.equal(`cellplane-${cell}-${role}`);
        expect(c.inputs.version).to.equal("1.35");
        expect(c.inputs.bootstrapSelfManagedAddons).to.equal(false);
        expect(c.inputs.accessConfig).to.deep.equal({ authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
        expect(c.inputs.enabledClusterLogTypes).to.deep.equal(["api", "audit", "authenticator"]);
        expect(c.inputs.encryptionConfig.resources).to.deep.equal(["secrets"]);
        const key = run.registrations.find((r) => r.type === "aws:kms/key:Key" && r.inputs && cellOf(r) === cell)!;
        expect(c.inputs.encryptionConfig.provider.keyArn).to.equal(`arn:aws:kms:us-west-2:123456789012:key/${key.id}`);
        expect(key.protect).to.equal(true);
        expect(c.inputs.upgradePolicy).to.deep.equal({ supportType: "EXTENDED" });
        expect(c.inputs.kubernetesNetworkConfig).to.deep.equal({ ipFamily: "ipv4", serviceIpv4Cidr: "172.20.0.0/16" });
        const subnets = c.inputs.vpcConfig.subnetIds.map((id: string) => ids.get(id)!);
        expect(subnets.map((s: Registration) => `${s.inputs.tags.role}/${s.inputs.tags.kind}`)).to.deep.equal([`${role}/nodes`, `${role}/nodes`, `${role}/nodes`]);
        expect(new Set(subnets.map((s: Registration) => s.inputs.availabilityZoneId)).size).to.equal(3);
        expect(c.inputs.vpcConfig.endpointPrivateAccess).to.equal(true);
        const natIps = of(run, "ec2/eip:Eip").filter((e) => cellOf(e) === cell).map((e) => `${awsMocks.newResource(e.type, e.name, e.inputs).state.publicIp}/32`);
        expect(c.inputs.vpcConfig.publicAccessCidrs).to.deep.equal(["203.0.113.0/24", ...natIps]);
        expect(c.protect).to.equal(true);
        const logGroup = of(run, "cloudwatch/logGroup:LogGroup").find((g) => g.inputs.name === `/aws/eks/${c.inputs.name}/cluster`)!;
        expect(c.dependencies).to.include(logGroup.urn);
      }
    });

    it("pins one system and one user node group per AZ to that AZ's node subnet, from IMDSv2 launch templates with Cilium's taint and ENI-sized maxPods", () => {
      const ids = byId(run);
      for (const ng of of(run, "eks/nodeGroup:NodeGroup")) {
        const role = roleOfName(ng.name);
        const [subnet] = ng.inputs.subnetIds.map((id: string) => ids.get(id)!);
        expect(ng.inputs.subnetIds).to.have.length(1);
        expect(ng.name.endsWith(subnet.inputs.availabilityZoneId), ng.name).to.equal(true);
        expect(subnet.inputs.tags).to.include({ role, kind: "nodes" });
        expect(ng.inputs.taints).to.deep.include({ key: "node.cilium.io/agent-not-ready", value: "true", effect: "NO_EXECUTE" });
        expect(ng.inputs.amiType).to.equal("AL2023_x86_64_STANDARD");
        expect(ng.ignoreChanges).to.include("scalingConfig.desiredSize");
        const system = ng.name.includes("-sys-");
        expect(ng.inputs.instanceTypes).to.deep.equal([system ? "m5.xlarge" : role === "data-plane" ? "r5.4xlarge" : "m5.2xlarge"]);
        if (system) expect(ng.inputs.scalingConfig).to.deep.equal({ minSize: 1, maxSize: 1, desiredSize: 1 });
        const lt = ids.get(ng.inputs.launchTemplate.id)!;
        expect(lt.inputs.metadataOptions.httpTokens).to.equal("required");
        expect(lt.inputs.blockDeviceMappings[0].ebs.encrypted).to.equal("true");
        expect(lt.inputs.iamInstanceProfile).to.equal(undefined);
        const userData = Buffer.from(lt.inputs.userData, "base64").toString("utf8");
        expect(userData).to.match(/kind: NodeConfig[\s\S]*maxPods: 40/);
        expect(40).to.be.at.most(eniMaxPods(ng.inputs.instanceTypes[0])!);
      }
    });

    it("installs Cilium in ENI mode alongside the node groups, and the CNI-dependent add-ons after it", () => {
      const urns = byUrn(run);
      const releases = run.registrations.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "cilium");
      expect(releases).to.have.length(6);
      for (const r of releases) {
        const v = r.inputs.values;
        expect(v.eni.enabled).to.equal(true);
        expect(v.ipam.mode).to.equal("eni");
        expect(v.routingMode).to.equal("native");
        expect(v.kubeProxyReplacement).to.equal(true);
        expect(v.k8sServiceHost).to.match(/^[0-9A-F]+\.gr7\.us-west-2\.eks\.amazonaws\.com$/);
        expect(v.k8sServicePort).to.equal(443);
        expect(v.eni.iamRole).to.match(/^arn:aws:iam::123456789012:role\/cp-usw2-c00\d-\w+-cilium$/);
        expect(v.socketLB.hostNamespaceOnly).to.equal(true);
        expect(r.inputs.skipAwait).to.equal(true);
        // Cilium waits for nothing that waits for nodes.
        for (const d of r.dependencies) expect(urns.get(d)!.type).to.not.equal("aws:eks/nodeGroup:NodeGroup");
      }
      const ciliumUrns = new Set(releases.map((r) => r.urn));
      for (const ng of of(run, "eks/nodeGroup:NodeGroup")) for (const d of ng.dependencies) expect(ciliumUrns.has(d), ng.name).to.equal(false);
      for (const a of of(run, "eks/addon:Addon")) {
        const cilium = releases.find((r) => r.name === a.name.replace(/-addon-.*$/, "-cilium"))!;
        expect(a.dependencies, a.name).to.include(cilium.urn);
      }
      expect(of(run, "eks/addon:Addon").map((a) => a.inputs.addonName).filter((n, i, all) => all.indexOf(n) === i).sort()).to.deep.equal(["aws-ebs-csi-driver", "coredns", "eks-pod-identity-agent"]);
    });

    it("gives each add-on an IRSA role trusted by its own cluster's OIDC provider for one service account, and the deployer role cluster admin", () => {
      const ids = byId(run);
      const oidc = new Map(of(run, "iam/openIdConnectProvider:OpenIdConnectProvider").map((p) => [p.id!, p]));
      const webRoles = of(run, "iam/role:Role").filter((r) => r.inputs.assumeRolePolicy.includes("AssumeRoleWithWebIdentity"));
      expect(webRoles).to.have.length(2 * (3 * 4 + 3 + 2)); // per cell: 4 add-on roles per cluster, cert-manager on 3 clusters, external-dns on 2
      for (const r of webRoles) {
        const st = JSON.parse(r.inputs.assumeRolePolicy).Statement[0];
        const provider = oidc.get(st.Principal.Federated)!;
        expect(cellOf(provider)).to.equal(cellOf(r));
        // The provider of the role's own cluster: "c001-proxy-oidc" for "c001-proxy-cilium-irsa".
        expect(r.name.startsWith(provider.name.replace(/-oidc$/, "-")), r.name).to.equal(true);
        expect(r.name.slice(provider.name.length - "oidc".length)).to.match(/^(cilium|ebs-csi|lb-controller|autoscaler|cert-manager|external-dns)-irsa$/);
        const host = provider.inputs.url.replace(/^https:\/\//, "");
        expect(st.Condition.StringEquals[`${host}:aud`]).to.equal("sts.amazonaws.com");
        expect(st.Condition.StringEquals[`${host}:sub`]).to.match(/^system:serviceaccount:[a-z-]+:[a-z-]+$/);
        expect(r.inputs.name.length).to.be.at.most(64);
      }
      for (const a of of(run, "eks/accessPolicyAssociation:AccessPolicyAssociation")) {
        expect(a.inputs).to.deep.include({ principalArn: "arn:aws:iam::123456789012:role/cellplane-deployer", policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } });
      }
      void ids;
    });

    it("keeps every physical name within AWS's rules", () => {
      const check = (name: string, rule: keyof typeof AWS_NAME_RULES) => expect(nameProblem(name, AWS_NAME_RULES[rule]), name).to.equal(null);
      for (const c of of(run, "eks/cluster:Cluster")) check(c.inputs.name, "eksCluster");
      for (const n of of(run, "eks/nodeGroup:NodeGroup")) check(n.inputs.nodeGroupName, "nodeGroup");
      for (const r of of(run, "iam/role:Role")) check(r.inputs.name, "iamRole");
      for (const s of of(run, "ec2/securityGroup:SecurityGroup")) check(s.inputs.name, "securityGroup");
      for (const l of of(run, "ec2/launchTemplate:LaunchTemplate")) check(l.inputs.name, "launchTemplate");
      for (const g of of(run, "cloudwatch/logGroup:LogGroup")) check(g.inputs.name, "logGroup");
      const roleNames = of(run, "iam/role:Role").map((r) => r.inputs.name);
      expect(new Set(roleNames).size).to.equal(roleNames.length);
    });
  });

  describe("DNS and platform", () => {
    it("protects the region zone and delegates a protected zone per cell from it", () => {
      const zones = of(run, "route53/zone:Zone");
      const region = zones.find((z) => z.name === "region-dns-zone")!;
      expect(region.protect).to.equal(true);
      expect(region.inputs.name).to.equal("us-west-2.aws.db.example.com");
      for (const cell of cells) {
        const zone = zones.find((z) => z.name === `${cell}-dns-zone`)!;
        expect(zone.inputs.name).to.equal(`${cell}.us-west-2.aws.db.example.com`);
        expect(zone.protect).to.equal(true);
        const ns = of(run, "route53/record:Record").find((r) => r.name === `${cell}-dns-delegation`)!;
        expect(ns.inputs).to.deep.include({ zoneId: region.id, name: zone.inputs.name, type: "NS" });
        expect(ns.inputs.records).to.have.length(4);
      }
    });

    it("binds the platform: route53 DNS01 on the cell zone, external-dns provider aws, an internet-facing NLB with IP targets, DNS roles on the cell zone only", () => {
      const issuers = run.registrations.filter((r) => r.type === "kubernetes:cert-manager.io/v1:ClusterIssuer");
      expect(issuers).to.have.length(6);
      for (const i of issuers) {
        const zone = of(run, "route53/zone:Zone").find((z) => z.name === `${cellOf(i)}-dns-zone`)!;
        expect(i.inputs.spec.acme.solvers[0].dns01).to.deep.equal({ route53: { region: "us-west-2", hostedZoneID: zone.id } });
      }
      const gateways = run.registrations.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "gateway");
      expect(gateways).to.have.length(4);
      for (const g of gateways) {
        expect(g.inputs.values.service.annotations).to.include({
          "service.beta.kubernetes.io/aws-load-balancer-type": "external",
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
          "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
          "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": "15021",
        });
      }
      const dns = run.registrations.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "external-dns");
      for (const d of dns) expect(d.inputs.values.provider).to.deep.equal({ name: "aws" });
      for (const p of of(run, "iam/rolePolicy:RolePolicy").filter((x) => /-(cert-manager|external-dns)-irsa-policy$/.test(x.name))) {
        const zone = of(run, "route53/zone:Zone").find((z) => z.name === `${cellOf(p)}-dns-zone`)!;
        const resources = JSON.parse(p.inputs.policy).Statement.flatMap((s: any) => [s.Resource].flat());
        expect(resources.filter((r: string) => r.includes("hostedzone"))).to.deep.equal([`arn:aws:route53:::hostedzone/${zone.id}`]);
      }
    });

    it("exports cluster names, OIDC issuers, NAT IPs and subnet ids per cell, with aws eks get-token kubeconfigs as secrets", () => {
      const { value: outputs } = unwrapSecrets(run.outputs);
      expect(Object.keys(outputs.cells)).to.deep.equal(cells);
      const c001 = outputs.cells.c001;
      expect(c001.clusters.proxy.name).to.equal("cellplane-c001-proxy");
      expect(c001.clusters.proxy.oidcIssuerUrl).to.match(/^https:\/\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/[0-9A-F]+$/);
      expect(Object.keys(c001.natPublicIps).sort()).to.deep.equal(["usw2-az1", "usw2-az2", "usw2-az3"]);
      expect(Object.keys(c001.subnetIds)).to.have.length(21);
      expect(JSON.parse(c001.kubeconfigs.proxy).users[0].user.exec.args).to.deep.equal(["eks", "get-token", "--cluster-name", "cellplane-c001-proxy", "--region", "us-west-2", "--role-arn", "arn:aws:iam::123456789012:role/cellplane-deployer", "--output", "json"]);
      expect(unwrapSecrets(run.outputs.cells.c001.kubeconfigs).secret).to.equal(true);
    });
  });

  describe("independence", () => {
    /** Every resource `r` waits for, through dependencies and parents' dependencies. */
    function waitsFor(r: Registration, urns: Map<string, Registration>, seen = new Set<string>()): Set<string> {
      for (const d of r.dependencies) {
        if (seen.has(d)) continue;
        seen.add(d);
        const dep = urns.get(d);
        if (dep) waitsFor(dep, urns, seen);
      }
      return seen;
    }

    it("cells never wait on each other, and the three clusters of a cell never wait on each other", () => {
      const urns = byUrn(run);
      for (const r of run.registrations.filter((x) => x.custom && /^c\d{3}-/.test(x.name))) {
        const cell = cellOf(r);
        const role = ROLES.find((x) => r.name.startsWith(`${cell}-${x}-`) && !(x === "data-plane" && r.name.startsWith(`${cell}-data-plane-mgmt-`)));
        for (const d of waitsFor(r, urns)) {
          const dep = urns.get(d)!;
          if (!/^c\d{3}-/.test(dep.name)) continue;
          expect(cellOf(dep), `${r.name} waits for ${dep.name}`).to.equal(cell);
          if (!role) continue;
          const depRole = ROLES.find((x) => dep.name.startsWith(`${cell}-${x}-`) && !(x === "data-plane" && dep.name.startsWith(`${cell}-data-plane-mgmt-`)));
          if (depRole) expect(depRole, `${r.name} waits for ${dep.name}`).to.equal(role);
        }
      }
    });

    it("adding a cell changes no input of any existing resource", () => expectAddedCellTouchesNothingElse(run, "prod-aws", { id: "c003", cidr: "10.130.0.0/16" }, 101));
  });

  describe("config and mocks", () => {
    const problems = (raw: Record<string, any>) => {
      const v = validateConfig(raw);
      return v.ok ? [] : v.problems.map((p) => `${["cellplane:", p.path.join(".")].join("")}: ${p.message}`);
    };

    it("requires cellplane:aws.deployerRoleArn and checks it is a role ARN", () => {
      const raw = exampleRaw("prod-aws");
      delete raw.aws;
      expect(problems(raw).join("\n")).to.include("cellplane:aws.deployerRoleArn: an AWS region needs the IAM role");
      raw.aws = { deployerRoleArn: "arn:aws:iam::123:user/x" };
      expect(problems(raw).join("\n")).to.include("must be an IAM role ARN");
      raw.aws = { deployerRoleArn: "arn:aws:iam::123456789012:role/ok", logRetentionDays: 42 };
      expect(problems(raw).join("\n")).to.include("must be one of CloudWatch's retention periods");
    });

    it("refuses more pods per node than an instance type's ENIs address, unknown instance types and AZs EKS refuses", () => {
      const raw = exampleRaw("prod-aws");
      raw.clusters.proxy.maxPodsPerNode = 50;
      raw.clusters["data-plane"].vmSize = "x9.huge";
      raw.zones = ["usw2-az1", "usw2-az2", "usw2-az3"];
      const ps = problems(raw).join("\n");
      expect(ps).to.include("cellplane:clusters.proxy.maxPodsPerNode: 50 pods per node is more than a m5.2xlarge can address in Cilium ENI mode (44");
      expect(ps).to.include('cellplane:clusters.data-plane.vmSize: instance type "x9.huge" has no known ENI limits');
      const east = exampleRaw("prod-aws");
      east.region = "us-east-1";
      east.zones = ["use1-az1", "use1-az2", "use1-az3"];
      expect(problems(east).join("\n")).to.include('cellplane:zones.2: "use1-az3" cannot host EKS control planes');
    });

    it("refuses an aws provider region other than cellplane:region", async () => {
      const config = { ...flatFromRaw(exampleRaw("prod-aws")), "aws:region": "eu-west-1" };
      const failure = await runProgram({ stack: "prod-aws", config, program }).then(
        () => expect.fail("a region mismatch must fail the run"),
        (err: Error) => err,
      );
      expect(failure.message).to.include("the aws provider's region is eu-west-1 but cellplane:region is us-west-2");
    });

    it("throws for an aws type or invoke without a mock, naming it", () => {
      expect(() => awsMocks.newResource("aws:rds/instance:Instance", "x", {})).to.throw("no mock for resource type aws:rds/instance:Instance; add one to providers/aws/mocks.ts");
      expect(() => awsMocks.invoke("aws:index/getCallerIdentity:getCallerIdentity", {})).to.throw("no mock for invoke aws:index/getCallerIdentity:getCallerIdentity");
    });
  });

  describe("policies on the EKS traps (each fails on a broken copy of this run)", () => {
    it("the run itself has no violation of any policy", async () => {
      const report = await runPolicies(resources, { policies: POLICIES });
      expect(report.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    });

    const cases: [string, string, (r: Rec, all: Rec[]) => void, RegExp][] = [
      ["isolation-matches-matrix", "c001-data-plane-sg-base", (r) => r.inputs.ingress.push({ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["10.128.96.0/22"] }), /proxy -> data-plane .*tcp\/22 allowed/],
      ["isolation-matches-matrix", "c001-proxy-cilium-cni-config", (r) => {
        const doc = JSON.parse(r.inputs.data["cni-config"]);
        delete doc.plugins[0].eni["security-groups"];
        r.inputs.data["cni-config"] = JSON.stringify(doc);
      }, /Cilium pod ENIs without security-groups|differs from the isolation matrix/],
      ["eks-cluster-creation", "c001-proxy-eks", (r) => (r.inputs.accessConfig.bootstrapClusterCreatorAdminPermissions = true), /bootstrapClusterCreatorAdminPermissions/],
      ["eks-cluster-creation", "c001-proxy-eks", (r) => delete r.inputs.bootstrapSelfManagedAddons, /installs aws-node and kube-proxy/],
      ["subnet-nat-same-zone", "c001-proxy-usw2-az2-pods-rta", (r, all) => (r.inputs.routeTableId = all.find((x) => x.name === "c001-usw2-az1-private-rt")!.id), /c001-proxy-usw2-az2-pods: serves zone usw2-az2 but egresses through NAT gateway c001-usw2-az1-nat of zone usw2-az1/],
      ["subnet-nat-same-zone", "c001-proxy-usw2-az2-nodes-rta", (r, all) => (r.inputs.routeTableId = all.find((x) => x.name === "c001-usw2-az1-private-rt")!.id), /c001-proxy-usw2-az2-nodes: serves zone usw2-az2 but egresses through NAT gateway c001-usw2-az1-nat/],
      ["names-within-cloud-rules", "c001-proxy-cilium-irsa", (r) => (r.inputs.name = `${r.inputs.name}-with-a-purpose-name-that-is-far-too-long-for-iam`), /has \d+ characters; the rule is 1-64/],
      ["cluster-version-pinned", "c001-proxy-eks", (r) => (r.inputs.upgradePolicy = { supportType: "STANDARD" }), /supportType STANDARD lets EKS upgrade the minor version/],
      ["eks-control-plane-zones", "c001-proxy-eks", (r) => (r.inputs.vpcConfig.subnetIds = [r.inputs.vpcConfig.subnetIds[0], r.inputs.vpcConfig.subnetIds[0]]), /all in usw2-az1/],
      ["eks-access-entries", "c001-proxy-deployer-entry", (r, all) => (r.inputs.principalArn = all.find((x) => x.type === "aws:eks/nodeGroup:NodeGroup")!.inputs.nodeRoleArn), /a node group's role/],
      ["eks-access-entries", "c001-proxy-eks", (r) => (r.dependencies = r.dependencies.filter((d) => !d.includes("log-group"))), /does not wait for its log group/],
      ["eks-encryption-key", "c001-kms-key", (r) => (r.inputs.customerMasterKeySpec = "RSA_2048"), /symmetric key/],
      ["eks-endpoint-reaches-nodes", "c001-proxy-eks", (r) => (r.inputs.vpcConfig.publicAccessCidrs = ["203.0.113.0/24"]), /lack the NAT addresses/],
      ["eks-vpc-dns", "c001-vpc", (r) => (r.inputs.enableDnsHostnames = false), /enableDnsHostnames/],
      ["eks-public-subnets-tagged", "c001-public-usw2-az1", (r) => delete r.inputs.tags["kubernetes.io/cluster/cellplane-c001-proxy"], /not for cellplane-c001-proxy/],
      ["eks-public-subnets-tagged", "c001-public-usw2-az2", (r) => delete r.inputs.tags["kubernetes.io/role/elb"], /kubernetes.io\/role\/elb/],
      ["security-group-quota", "c001-data-plane-sg-from-proxy", (r) => r.inputs.ingress.push({ protocol: "tcp", fromPort: 1, toPort: 1, cidrBlocks: Array.from({ length: 40 }, (_, i) => `10.0.${i}.0/24`) }), /inbound rules, above the quota of 60/],
      ["security-group-descriptions", "c001-proxy-sg-base", (r) => (r.inputs.egress[0].description = "the other roles' ports"), /has characters EC2 refuses/],
      ["eks-launch-template", "c001-proxy-user-lt", (r) => (r.inputs.metadataOptions.httpTokens = "optional"), /IMDSv1/],
      ["eks-launch-template", "c001-proxy-sys-lt", (r) => (r.inputs.iamInstanceProfile = { name: "x" }), /instance profile/],
      ["eks-node-group-cilium-taint", "c001-proxy-user-usw2-az1", (r) => (r.inputs.taints = []), /agent-not-ready/],
      ["eks-cilium-eni", "c001-proxy-cilium", (r) => (r.inputs.values.k8sServiceHost = `https://${r.inputs.values.k8sServiceHost}`), /not a bare hostname/],
      ["eks-cilium-eni", "c001-proxy-cilium", (r) => delete r.inputs.skipAwait, /skipAwait/],
      ["eks-cilium-eni", "c001-proxy-cilium", (r) => delete r.inputs.values.eni.iamRole, /eni.iamRole is unset/],
      ["eks-cilium-eni", "c001-proxy-cilium-cni-config", (r) => (r.inputs.data["cni-config"] = r.inputs.data["cni-config"].replace('"first-interface-index":1', '"first-interface-index":0')), /first-interface-index/],
      ["eks-cilium-eni", "c001-proxy-user-usw2-az1", (r, all) => (r.dependencies = [...r.dependencies, all.find((x) => x.name === "c001-proxy-cilium")!.urn]), /waits for the Cilium release/],
      ["eks-cilium-eni", "c001-proxy-addon-coredns", (r) => (r.dependencies = []), /does not wait for Cilium/],
      ["eks-gateway-nlb", "c001-proxy-platform-istio-ingress", (r) => delete r.inputs.values.service.annotations["service.beta.kubernetes.io/aws-load-balancer-scheme"], /scheme: unset \(want internet-facing\)/],
      ["irsa-trust-scoped", "c001-proxy-cilium-irsa", (r) => (r.inputs.assumeRolePolicy = r.inputs.assumeRolePolicy.replace(/kube-system:cilium-operator/, "kube-system:*")), /names no single service account/],
    ];
    it("stays silent on a first preview, where subnet, group and template ids are unknown (falls back to dependencies)", async () => {
      const copy = structuredClone(resources);
      for (const r of copy) {
        if (r.type === "kubernetes:core/v1:ConfigMap") delete r.inputs.data;
        // Unknown values: lists keep their length, their elements are not known.
        const unknown = (xs: unknown[]) => xs.map(() => undefined);
        if (r.type === "aws:eks/nodeGroup:NodeGroup") {
          r.inputs.subnetIds = unknown(r.inputs.subnetIds);
          r.inputs.launchTemplate = {};
        }
        if (r.type === "aws:ec2/launchTemplate:LaunchTemplate") r.inputs.vpcSecurityGroupIds = unknown(r.inputs.vpcSecurityGroupIds);
        if (r.type === "aws:eks/cluster:Cluster") r.inputs.vpcConfig = { ...r.inputs.vpcConfig, subnetIds: unknown(r.inputs.vpcConfig.subnetIds), securityGroupIds: unknown(r.inputs.vpcConfig.securityGroupIds), publicAccessCidrs: undefined };
      }
      for (const r of copy.filter((x) => x.inputs.chart === "cilium")) {
        r.inputs.values.k8sServiceHost = undefined;
        r.inputs.values.eni.iamRole = undefined;
      }
      const report = await runPolicies(copy, { policies: POLICIES.filter((p) => EKS_POLICIES.includes(p) || p.name === "isolation-matches-matrix") });
      expect(report.violations.map((v) => v.message)).to.deep.equal([]);
      // ...and the fallback still judges: a preview whose pod ENIs would carry no group of their role is caught.
      const cm = copy.find((r) => r.name === "c001-data-plane-cilium-cni-config")!;
      cm.dependencies = cm.dependencies.filter((d) => !d.includes("-sg-"));
      const broken = await runPolicies(copy, { policies: [policyNamed("isolation-matches-matrix")] });
      expect(broken.violations.map((v) => v.message).join("\n")).to.match(/-> data-plane .*Cilium pod ENIs \(c001-data-plane-cilium-cni-config\)\) differs from the isolation matrix/);
    });

    it("has a failing case for every EKS policy", () => {
      expect([...new Set(cases.map((c) => c[0]))].filter((p) => p.startsWith("eks-") || p.startsWith("security-group-") || p === "irsa-trust-scoped").sort()).to.deep.equal(EKS_POLICIES.map((p) => p.name).sort());
    });

    for (const [policy, name, fn, message] of cases) {
      it(`${policy} fails when ${name} is broken (${message.source.slice(0, 40)})`, async () => {
        const vs = await broken(policy, name, fn);
        expect(vs.map((v) => v.message).join("\n")).to.match(message);
        expect(vs.every((v) => v.level === "mandatory")).to.equal(true);
      });
    }
  });
});
