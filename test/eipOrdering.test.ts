// Each Elastic IP association is registered after what routes its subnet to the internet:
// the internet gateway (attached to the VPC on creation), the route table holding the
// default route, and its zone's route table association. AWS answers Gateway.NotAttached
// to an association that wins the race.
import { ofType } from "./pulumiMocks";
import { runProgram } from "./stackHarness";

it("every EIP association depends on the gateway, the default route and its zone's association", async () => {
  const run = await runProgram("multicloud");
  const one = (type: string, name: RegExp) => {
    const rs = ofType(run.recorded, type).filter((r) => name.test(r.name));
    expect(rs).toHaveLength(1);
    return rs[0];
  };
  const igw = one("aws:ec2/internetGateway:InternetGateway", /-igw$/);
  const routes = one("aws:ec2/routeTable:RouteTable", /-routes$/);
  expect(routes.inputs.routes).toEqual([expect.objectContaining({ cidrBlock: "0.0.0.0/0", gatewayId: igw.id })]);
  const associations = ofType(run.recorded, "aws:ec2/eipAssociation:EipAssociation");
  const instances = ofType(run.recorded, "aws:ec2/instance:Instance");
  expect(associations).toHaveLength(instances.length);
  const zones = new Set<string>();
  for (const a of associations) {
    const node = a.name.replace(/^meshmc-aws-/, "");
    const zone =
      instances.find((i) => i.name.endsWith(node))!.inputs.availabilityZone ??
      ofType(run.recorded, "aws:ec2/subnet:Subnet").find(
        (s) => s.id === ofType(run.recorded, "aws:ec2/networkInterface:NetworkInterface").find((e) => e.name === a.name)!.inputs.subnetId,
      )!.inputs.availabilityZone;
    zones.add(zone);
    const subnetRoute = one("aws:ec2/routeTableAssociation:RouteTableAssociation", new RegExp(`-routes-${zone}$`));
    expect(a.dependencies).toEqual(expect.arrayContaining([igw.urn, routes.urn, subnetRoute.urn]));
    // and not through the association of another zone
    for (const other of ofType(run.recorded, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter((r) => r !== subnetRoute))
      expect(a.dependencies).not.toContain(other.urn);
  }
  expect([...zones].sort()).toEqual(["eu-west-1a", "eu-west-1b"]);
}, 120_000);
