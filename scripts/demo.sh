#!/usr/bin/env bash
# `make demo`: the real playbook, end to end, against the bundled Atlas emulator and moto's IAM server.
# Starts both servers on free 127.0.0.1 ports (Atlas with a 3 s IAM propagation delay, so the wait is visible),
# creates a demo IAM role that already trusts ec2.amazonaws.com, runs the playbook, shows the result, runs it again
# to show that nothing changes, and stops both servers whatever happens. Nothing leaves 127.0.0.1.
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PYTHON="$VENV/bin/python"
PROPAGATION_DELAY=${DEMO_PROPAGATION_DELAY:-3}
IAM_ROLE_NAME=atlas-unified-access-demo

stage_collection
cleanup() {
    stop_servers
    rm -rf "$STAGE_ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Starting moto's IAM server and the Atlas emulator (propagation delay ${PROPAGATION_DELAY} s)"
start_servers "$STAGE_ROOT/servers.env" --propagation-delay "$PROPAGATION_DELAY" --project demo-project
export ANSIBLE_COLLECTIONS_PATH="$STAGE_ROOT" ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-1}
export ANSIBLE_PYTHON_INTERPRETER="$PYTHON"

step "Creating the demo IAM role $IAM_ROLE_NAME in moto; it already trusts ec2.amazonaws.com"
"$PYTHON" - "$IAM_ROLE_NAME" <<'EOF'
import json, os, sys
import boto3
iam = boto3.client("iam", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Ec2", "Effect": "Allow",
          "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
role = iam.create_role(RoleName=sys.argv[1], AssumeRolePolicyDocument=json.dumps(policy))["Role"]
print(role["Arn"])
EOF

playbook_args=(atlas_ops.aws_access.unified_access -i 'localhost,'
    -e atlas_project_name=demo-project -e aws_iam_role_name="$IAM_ROLE_NAME" -e aws_endpoint_url="$MOTO_URL")

step "Running the playbook (Atlas credentials come from MONGODB_ATLAS_* environment variables)"
echo "ansible-playbook ${playbook_args[*]}"
"$VENV/bin/ansible-playbook" "${playbook_args[@]}"

step "What Atlas and IAM now hold"
"$PYTHON" - "$IAM_ROLE_NAME" <<'EOF'
import json, os, sys, urllib.parse
import boto3, httpx
base = os.environ["ATLAS_EMULATOR_URL"] + "/api/atlas/v2"
auth = httpx.DigestAuth(os.environ["MONGODB_ATLAS_PUBLIC_API_KEY"], os.environ["MONGODB_ATLAS_PRIVATE_API_KEY"])
headers = {"Accept": "application/vnd.atlas.2023-01-01+json"}
roles = httpx.get(f"{base}/groups/{os.environ['ATLAS_PROJECT_ID_1']}/cloudProviderAccess", auth=auth, headers=headers)
roles.raise_for_status()
print("Atlas project demo-project, cloudProviderAccess.awsIamRoles:")
print(json.dumps(roles.json()["awsIamRoles"], indent=2))
iam = boto3.client("iam", endpoint_url=os.environ["MOTO_URL"], region_name="us-east-1")
document = iam.get_role(RoleName=sys.argv[1])["Role"]["AssumeRolePolicyDocument"]
if isinstance(document, str):
    document = json.loads(urllib.parse.unquote(document))
print(f"IAM role {sys.argv[1]}, trust policy (the ec2 statement kept, Atlas's statement added):")
print(json.dumps(document, indent=2))
EOF

step "Running the playbook again: every task ok, nothing changed"
output_file="$STAGE_ROOT/second-run.log"
"$VENV/bin/ansible-playbook" "${playbook_args[@]}" | tee "$output_file"
if grep -Eq 'changed=[1-9]' "$output_file"; then
    echo "the second run changed something" >&2
    exit 1
fi
step "Demo finished: the second run reported changed=0. Both servers are being stopped."
