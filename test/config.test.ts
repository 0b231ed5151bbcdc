import { expect } from "chai";
import fc from "fast-check";
import { coversWholeInternet, validateConfig, validateStackConfig } from "../cells/config";
import { formatPath, Problem } from "../cells/plan/model";
import { EXAMPLE_STACKS, exampleRaw, flatFromRaw } from "./helpers";

function problemsOf(raw: Record<string, unknown>): Problem[] {
  const r = validateConfig(raw);
  if (r.ok) throw new Error("expected the config to be refused");
  return r.problems;
}

function pathsOf(raw: Record<string, unknown>): string[] {
  return problemsOf(raw).map((p) => formatPath(p.path));
}

describe("stack config (cells/config.ts)", () => {
  for (const stack of EXAMPLE_STACKS) {
    it(`accepts the example stack ${stack} and plans every cell`, () => {
      const r = validateConfig(exampleRaw(stack));
      if (!r.ok) throw new Error(r.problems.map((p) => `${formatPath(p.path)}: ${p.message}`).join("\n"));
      expect(Object.keys(r.value.plans).sort()).to.deep.equal(r.value.cells.map((c) => c.id));
    });
  }

  it("applies defaults, region settings and cell overrides in that order", () => {
    const r = validateConfig(exampleRaw("prod-azure"));
    if (!r.ok) throw new Error("example must validate");
    const c002 = r.value.cells.find((c) => c.id === "c002")!;
    expect(c002.clusters["data-plane"].maxNodesPerZone).to.equal(200); // cell override
    expect(c002.clusters["data-plane"].vmSize).to.equal("Standard_E16ds_v5"); // region setting
    expect(c002.clusters.proxy.vmSize).to.equal("Standard_D8ds_v5"); // default
    expect(r.value.protect).to.equal(true);
    expect(r.value.serviceCidr).to.equal("172.20.0.0/16");
    expect(r.value.platform.charts.istio).to.match(/^\d+\.\d+\.\d+$/);
  });

  it("reports every problem at once, each with its property path and a fix", () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c002.cidr = "10.64.0.0/15"; // overlaps c001
    raw.cells.c003.cidr = "10.66.0/16"; // malformed
    raw.cells.c004 = { cidr: "10.70.0.0/24" }; // too small
    raw.cells.c005 = { cidr: "192.168.0.0/16" }; // outside the pool
    raw.colour = "blue"; // unknown key
    const problems = problemsOf(raw);
    const paths = problems.map((p) => formatPath(p.path));
    expect(paths).to.include.members([
      "cellplane:cells.c002.cidr",
      "cellplane:cells.c003.cidr",
      "cellplane:cells.c004.cidr",
      "cellplane:cells.c005.cidr",
      "cellplane:colour",
    ]);
    for (const p of problems) expect(p.fix, formatPath(p.path)).to.be.a("string").and.not.equal("");
    expect(problems.find((p) => p.message.includes("overlaps cells.c001.cidr"))?.message).to.equal("10.64.0.0/15 overlaps cells.c001.cidr (10.64.0.0/16)");
  });

  it("refuses a misaligned CIDR and says which block it falls in", () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c001.cidr = "10.64.1.0/16";
    expect(problemsOf(raw).find((p) => formatPath(p.path) === "cellplane:cells.c001.cidr")?.message).to.match(/not aligned.*10\.64\.0\.0\/16/);
  });

  it("refuses an AWS cell larger than /16", () => {
    const raw = exampleRaw("prod-aws");
    raw.cells.c002.cidr = "10.130.0.0/15";
    expect(problemsOf(raw).map((p) => p.message)).to.include("a /15 is larger than a aws VPC may be (/16 at most)");
  });

  it("refuses cells overlapping the service range, and a service range inside the pool", () => {
    const raw = exampleRaw("prod-azure");
    raw.serviceCidr = "10.66.0.0/16";
    expect(pathsOf(raw)).to.include.members(["cellplane:cells.c003.cidr", "cellplane:serviceCidr"]);
  });

  it("refuses zone names of the wrong cloud and duplicate zones", () => {
    const aws = exampleRaw("prod-aws");
    aws.zones = ["usw2-az1", "us-west-2b", "usw2-az1"];
    const problems = problemsOf(aws);
    expect(problems.map((p) => formatPath(p.path))).to.deep.equal(["cellplane:zones[1]", "cellplane:zones[2]"]);
    expect(problems[0].message).to.match(/not an AWS AZ ID/);
    const wrongRegion = exampleRaw("prod-aws");
    wrongRegion.zones = ["use1-az1", "usw2-az2"];
    expect(problemsOf(wrongRegion)[0].message).to.match(/not an AZ ID of us-west-2/);
    const azure = exampleRaw("prod-azure");
    azure.zones = ["1", "4"];
    expect(pathsOf(azure)).to.deep.equal(["cellplane:zones[1]"]);
    const gcp = exampleRaw("prod-gcp");
    gcp.zones = ["us-east1-b"];
    expect(pathsOf(gcp)).to.deep.equal(["cellplane:zones[0]"]);
  });

  it("takes the kubelogin mode on Azure stacks only, from a fixed list", () => {
    const azure = exampleRaw("prod-azure");
    azure.azure = { ...azure.azure, kubeloginMode: "workloadidentity" };
    const ok = validateConfig(azure);
    expect(ok.ok && ok.value.azure?.kubeloginMode).to.equal("workloadidentity");
    const defaulted = validateConfig(exampleRaw("prod-azure"));
    expect(defaulted.ok && defaulted.value.azure?.kubeloginMode).to.equal("azurecli");
    azure.azure = { ...azure.azure, kubeloginMode: "password" };
    expect(pathsOf(azure)).to.deep.equal(["cellplane:azure.kubeloginMode"]);
    const aws = exampleRaw("prod-aws");
    aws.azure = { kubeloginMode: "azurecli" };
    expect(pathsOf(aws)).to.deep.equal(["cellplane:azure"]);
  });

  it("needs the deployer principal on Azure: a group's object id, never whoever runs Pulumi", () => {
    const missing = exampleRaw("prod-azure");
    delete missing.azure;
    const problems = problemsOf(missing);
    expect(problems.map((p) => formatPath(p.path))).to.deep.equal(["cellplane:azure.deployerPrincipalId"]);
    expect(problems[0].fix).to.include("pulumi config set --path cellplane:azure.deployerPrincipalId");
    const malformed = exampleRaw("prod-azure");
    malformed.azure.deployerPrincipalId = "sre-team";
    expect(pathsOf(malformed)).to.deep.equal(["cellplane:azure.deployerPrincipalId"]);
  });

  it("refuses node counts above the cloud's pool limit and Kubernetes' cluster limit, and maxPods above the cloud cap", () => {
    const raw = exampleRaw("prod-aws");
    raw.cells.c001.clusters = { "data-plane": { maxNodesPerZone: 500 } }; // EKS: 450 per node group
    raw.clusters.proxy = { maxPodsPerNode: 251 }; // above 250 on AWS
    raw.cells.c002.clusters = { "data-plane": { maxNodesPerZone: 2000 } };
    const problems = problemsOf(raw);
    const paths = problems.map((p) => formatPath(p.path));
    expect(paths).to.include("cellplane:cells.c001.clusters.data-plane.maxNodesPerZone");
    expect(paths).to.include("cellplane:clusters.proxy.maxPodsPerNode");
    expect(problems.some((p) => /above Kubernetes' 5000 nodes per cluster/.test(p.message))).to.equal(true);
  });

  it("refuses a capacity that does not fit the cell", () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c003.clusters = { "data-plane": { maxNodesPerZone: 900 } };
    const p = problemsOf(raw).find((x) => formatPath(x.path) === "cellplane:cells.c003.cidr");
    expect(p?.message).to.match(/needs \d+ addresses \(a \/\d+\), but 10\.66\.0\.0\/16 has 65536/);
  });

  it("refuses unknown keys at any depth, by their own path", () => {
    const raw = exampleRaw("prod-azure");
    raw.cells.c001.zone = "1";
    raw.maintenance.weekday = "Monday";
    expect(pathsOf(raw)).to.include.members(["cellplane:cells.c001.zone", "cellplane:maintenance.weekday"]);
  });

  it("refuses a public API server without authorized ranges", () => {
    const raw = exampleRaw("prod-azure");
    delete raw.apiServer;
    expect(pathsOf(raw)).to.deep.equal(["cellplane:apiServer"]);
  });

  it("keeps a cell's plan independent of every other cell (add, remove, reorder)", () => {
    const base = exampleRaw("prod-azure");
    const reference = validateConfig(base);
    if (!reference.ok) throw new Error("example must validate");
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 3, max: 60 }), { maxLength: 8 }), fc.boolean(), fc.boolean(), (extra, dropC003, reverse) => {
        const raw = structuredClone(base);
        for (const n of extra) raw.cells[`x${n}`] = { cidr: `10.${64 + n}.0.0/16`, clusters: { proxy: { maxNodesPerZone: n } } };
        if (dropC003) delete raw.cells.c003;
        if (reverse) raw.cells = Object.fromEntries(Object.entries(raw.cells).reverse());
        const r = validateConfig(raw);
        if (!r.ok) throw new Error(r.problems[0].message);
        expect(r.value.plans.c001).to.deep.equal(reference.value.plans.c001);
        expect(r.value.plans.c002).to.deep.equal(reference.value.plans.c002);
      }),
      { numRuns: 50 },
    );
  });

  it("refuses a cell id that cannot be part of a name", () => {
    const raw = exampleRaw("prod-azure");
    raw.cells["Cell_1"] = { cidr: "10.80.0.0/16" };
    expect(pathsOf(raw)).to.deep.equal(["cellplane:cells.Cell_1"]);
  });

  describe("Kubernetes versions against each cloud's support calendar (the date is passed in)", () => {
    const withVersion = (stack: string, version: string, cell?: string) => {
      const raw = exampleRaw(stack);
      if (cell) raw.cells[cell] = { ...raw.cells[cell], clusters: { proxy: { kubernetesVersion: version } } };
      else raw.clusters = { ...(raw.clusters ?? {}), proxy: { kubernetesVersion: version } };
      return raw;
    };

    it("defaults every role to the newest minor of the cloud's calendar, never a retired one", () => {
      const expected: Record<string, string> = { "prod-azure": "1.35", "prod-aws": "1.35", "prod-gcp": "1.35" };
      for (const stack of EXAMPLE_STACKS) {
        const r = validateConfig(exampleRaw(stack), { today: new Date("2026-11-23T12:00:00Z") });
        if (!r.ok) throw new Error(r.problems.map((p) => p.message).join("\n"));
        for (const role of ["proxy", "data-plane-mgmt"] as const) expect(r.value.clusters[role].kubernetesVersion, stack).to.equal(expected[stack]);
        expect(r.value.warnings.filter((w) => /kubernetesVersion/.test(formatPath(w.path))), stack).to.deep.equal([]);
      }
    });

    it("refuses a version past its end of standard support, naming the date, source and supported minors", () => {
      const r = validateConfig(withVersion("prod-azure", "1.33"), { today: new Date("2026-11-23T12:00:00Z") });
      if (r.ok) throw new Error("expected a refusal");
      expect(r.problems.map((p) => formatPath(p.path))).to.deep.equal(["cellplane:clusters.proxy.kubernetesVersion"]);
      expect(r.problems[0].message).to.match(/1\.33 is past its end of standard support on azure \(2026-06-30, learn\.microsoft\.com/);
      expect(r.problems[0].fix).to.equal("use a supported minor: 1.34, 1.35");
      // A minor older than the whole calendar is refused too; a cell's own override is judged at the cell.
      const old = validateConfig(withVersion("prod-azure", "1.29.4", "c002"), { today: new Date("2026-11-23T12:00:00Z") });
      expect(old.ok ? [] : old.problems.map((p) => formatPath(p.path))).to.deep.equal(["cellplane:cells.c002.clusters.proxy.kubernetesVersion"]);
    });

    it("warns within 60 days of the end without failing, and not before", () => {
      const near = validateConfig(withVersion("prod-azure", "1.34.2"), { today: new Date("2026-11-23T12:00:00Z") });
      if (!near.ok) throw new Error("a version 7 days from its end is still valid");
      expect(near.value.warnings.map((w) => [formatPath(w.path), w.message.slice(0, 61)])).to.deep.equal([["cellplane:clusters.proxy.kubernetesVersion", "Kubernetes 1.34.2 leaves standard support on azure on 2026-11"]]);
      const far = validateConfig(withVersion("prod-azure", "1.34"), { today: new Date("2026-09-30T00:00:00Z") });
      expect(far.ok && far.value.warnings).to.deep.equal([]);
      const past = validateConfig(withVersion("prod-aws", "1.34"), { today: new Date("2026-12-03T00:00:00Z") });
      expect(past.ok).to.equal(false);
    });
  });

  describe("Azure limits (issue 12 item 9): regions and zones from a table with its source, DNS lengths, tags", () => {
    const azure = (patch: (raw: Record<string, any>) => void) => {
      const raw = exampleRaw("prod-azure");
      patch(raw);
      return raw;
    };

    it("warns of an azure.separatePools entry that names no cell (a retired cell's id), without refusing the config", () => {
      const r = validateConfig(azure((raw) => (raw.azure.separatePools = ["c001", "c009", "c002"])));
      if (!r.ok) throw new Error(`a leftover entry is not an error: ${r.problems.map((p) => p.message).join("; ")}`);
      expect(r.value.warnings.map((w) => [formatPath(w.path), w.message, w.fix])).to.deep.equal([
        ["cellplane:azure.separatePools[1]", "lists c009, which is not a cell of this stack (a retired cell, or a typo); the entry does nothing", "remove c009 from cellplane:azure.separatePools"],
      ]);
      const clean = validateConfig(exampleRaw("prod-azure"));
      expect(clean.ok && clean.value.warnings.filter((w) => /separatePools/.test(formatPath(w.path)))).to.deep.equal([]);
    });

    it("refuses an unknown region, listing the known ones, unless regionZones vouches for a newer one", () => {
      const problems = problemsOf(azure((r) => (r.region = "eastus9")));
      expect(problems.map((p) => formatPath(p.path))).to.deep.equal(["cellplane:region"]);
      expect(problems[0].message).to.match(/"eastus9" is not an Azure region cellplane knows \(learn\.microsoft\.com.*regions with zones: .*eastus2, .*westus3/);
      expect(problems[0].fix).to.match(/cellplane:azure\.regionZones/);
      const hatch = validateConfig(azure((r) => { r.region = "eastus9"; r.azure = { ...r.azure, regionZones: ["1", "2", "3"] }; }));
      expect(hatch.ok).to.equal(true);
    });

    it("refuses a region without zones, and a zone the region lacks", () => {
      expect(pathsOf(azure((r) => (r.region = "westus")))).to.deep.equal(["cellplane:region"]);
      expect(pathsOf(azure((r) => { r.region = "eastus9"; r.azure = { ...r.azure, regionZones: ["1", "2"] }; }))).to.deep.equal(["cellplane:zones[2]"]);
    });

    it("refuses DNS zones whose records would pass 253 characters, and labels over 63", () => {
      const long = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(40)}.example.com`;
      expect(problemsOf(azure((r) => (r.dns = { zone: long }))).map((p) => p.message).join("\n")).to.match(/reach \d+ characters .*at most 253/);
      expect(problemsOf(azure((r) => (r.dns = { zone: `${"a".repeat(64)}.example.com` }))).map((p) => p.message).join("\n")).to.match(/has 64 characters; DNS allows 63/);
    });

    it("refuses more than 50 tags with cellplane's own, case-twins, reserved prefixes and tags cellplane would overwrite", () => {
      const many = Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`t${i}`, "x"]));
      expect(pathsOf(azure((r) => (r.tags = many)))).to.deep.equal(["cellplane:tags"]);
      const paths = pathsOf(azure((r) => (r.tags = { owner: "a", Owner: "b", microsoftTeam: "c", cell: "d", "Managed-By": "e" })));
      expect(paths).to.deep.equal(["cellplane:tags.Owner", "cellplane:tags.microsoftTeam", "cellplane:tags.cell", "cellplane:tags.Managed-By"]);
      expect(validateConfig(azure((r) => (r.tags = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`t${i}`, "x"]))))).ok).to.equal(true);
    });
  });
});

describe("stack config: holes a red-team run found (issue 12, items 6-8, 10-11)", () => {
  const problem = (problems: Problem[], path: string) => problems.find((p) => formatPath(p.path) === path);

  it("refuses cell ids that YAML would not keep as strings (true, false, yes, no, on, off, null)", () => {
    for (const id of ["true", "false", "yes", "no", "on", "off", "null"]) {
      const raw = exampleRaw("prod-azure");
      raw.cells[id] = { cidr: "10.90.0.0/16" };
      const p = problem(problemsOf(raw), `cellplane:cells.${id}`);
      expect(p, id).to.not.equal(undefined);
      expect(p!.message).to.include("not a string");
      expect(p!.fix).to.include("c004");
    }
  });

  it("compares the union of authorizedIpRanges with the whole Internet, not each literal", () => {
    const raw = exampleRaw("prod-azure");
    raw.apiServer = { private: false, authorizedIpRanges: ["0.0.0.0/1", "128.0.0.0/1"] };
    const p = problem(problemsOf(raw), "cellplane:apiServer.authorizedIpRanges");
    expect(p?.message).to.include("cover every IPv4 address");
    expect(p?.fix).to.include("operator networks");
    // Four quarters and overlapping pieces too; a gap of one address is not the whole Internet.
    expect(coversWholeInternet(["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"])).to.equal(true);
    expect(coversWholeInternet(["0.0.0.0/1", "64.0.0.0/2", "128.0.0.0/1"])).to.equal(true);
    expect(coversWholeInternet(["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8", "255.0.0.0/9"])).to.equal(false);
    expect(coversWholeInternet(["203.0.113.0/24"])).to.equal(false);
  });

  it("bounds serviceCidr to what every cloud accepts: private, /13 to /24, none of the AKS-reserved blocks", () => {
    for (const [serviceCidr, words] of [
      ["172.20.0.0/30", "too small"],
      ["169.254.0.0/16", "not inside a private"],
      ["10.0.0.0/8", "too large"],
      ["172.30.0.0/16", "AKS reserves"],
      ["100.64.0.0/16", "not inside a private"],
    ] as const) {
      const raw = exampleRaw("prod-azure");
      raw.serviceCidr = serviceCidr;
      const p = problemsOf(raw).filter((x) => formatPath(x.path) === "cellplane:serviceCidr");
      expect(p.map((x) => x.message).join("\n"), serviceCidr).to.include(words);
      expect(p[0].fix).to.include("172.20.0.0/16");
    }
    const ok = exampleRaw("prod-azure");
    ok.serviceCidr = "192.168.0.0/20";
    expect(validateConfig(ok).ok).to.equal(true);
  });

  it("refuses keys in unknown namespaces (cellpane:protect), naming the key", () => {
    const flat = { ...flatFromRaw(exampleRaw("prod-azure")), "cellpane:protect": "false" };
    const r = validateStackConfig(flat);
    if (r.ok) throw new Error("expected a refusal");
    const p = problem(r.problems, "cellpane:protect");
    expect(p?.message).to.include('unknown config namespace "cellpane:"');
    expect(p?.fix).to.include("cellplane:");
    expect(validateStackConfig({ ...flatFromRaw(exampleRaw("prod-azure")), "cellctl:retiredCells": "[]", "azure-native:location": "eastus2" }).ok).to.equal(true);
  });

  it("says what is wrong with secure: values, and tells a wrongly typed key from a missing one", () => {
    const raw = exampleRaw("prod-azure");
    raw.dns = { zone: { secure: "v1:abc" } };
    const r = validateStackConfig(flatFromRaw(raw));
    if (r.ok) throw new Error("expected a refusal");
    const p = problem(r.problems, "cellplane:dns.zone");
    expect(p?.message).to.include("encrypted (secure:) value");
    expect(r.problems.map((x) => x.message).join("\n")).to.not.include("received object");

    const top = validateStackConfig(flatFromRaw(exampleRaw("prod-azure")), ["cellplane:region"]);
    expect(top.ok).to.equal(false);

    const typed = exampleRaw("prod-azure");
    typed.protect = "no";
    const t = problem(problemsOf(typed), "cellplane:protect");
    expect(t?.fix).to.not.match(/^set it/);
    expect(t?.fix).to.include('it is set to "no" (a string)');
    const missing = exampleRaw("prod-azure");
    delete missing.region;
    expect(problem(problemsOf(missing), "cellplane:region")?.fix).to.match(/^set it/);
  });
});
