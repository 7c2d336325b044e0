#!/usr/bin/env bash
# End-to-end: many Atlas projects (inventory hosts) sharing one IAM role, set up in parallel with forks. The role must
# write the shared trust policy once, with every project's grant, and authorize every project.
source ../setup_unified_access/lib.sh
start_moto_and_emulator

# write_inventory FILE COUNT PREFIX: COUNT hosts in group atlas_projects, each a new Atlas project.
write_inventory() {
    local file=$1 count=$2 prefix=$3 number
    {
        echo "atlas_projects:"
        echo "  hosts:"
        for number in $(seq -w 1 "$count"); do
            echo "    $prefix-$number:"
            echo "      atlas_project_id: $(new_project "$prefix-$number")"
        done
    } > "$file"
}

# check_fleet INVENTORY IAM_ROLE ARGS...: the probe's check for every project of the inventory.
check_fleet() {
    local inventory=$1 role=$2 project; shift 2
    while read -r project; do
        check "$project" "$role" "$@" > /dev/null
    done < <(grep -o 'atlas_project_id: [0-9a-f]*' "$inventory" | cut -d' ' -f2)
}

iam_writes() { probe requests | "$PYTHON" -c 'import json, sys; print(len(json.load(sys.stdin)["iam_writes"]))'; }

# fleet COUNT IAM_ROLE MERGE STATEMENTS FULL: set up (and with FULL=full also rerun and tear down) COUNT projects.
fleet() {
    local count=$1 role=$2 merge=$3 statements=$4 full=$5 inventory="$WORK_DIR/$2.yml"
    write_inventory "$inventory" "$count" "$role"
    probe iam-role "$role" > /dev/null
    probe clear-requests > /dev/null
    unified_access -i "$inventory" -f "$count" -e unified_access_hosts=atlas_projects -e aws_iam_role_name="$role" \
        -e unified_access_trust_merge="$merge"
    expect_changed
    check_fleet "$inventory" "$role" --authorized 1 --granted-all --grants "$count" --statements "$statements"
    [ "$(iam_writes)" = 1 ] || fail "expected one trust policy write for the whole fleet, saw $(iam_writes)"
    [ "$full" = full ] || return 0

    probe clear-requests > /dev/null
    unified_access -i "$inventory" -f "$count" -e unified_access_hosts=atlas_projects -e aws_iam_role_name="$role" \
        -e unified_access_trust_merge="$merge"
    expect_unchanged
    check_fleet "$inventory" "$role" --authorized 1 --granted-all --grants "$count" --no-writes

    probe clear-requests > /dev/null
    unified_access -i "$inventory" -f "$count" -e unified_access_hosts=atlas_projects -e aws_iam_role_name="$role" \
        -e unified_access_state=absent
    expect_changed
    check_fleet "$inventory" "$role" --roles 0 --grants 0 --statements 1
    [ "$(iam_writes)" = 1 ] || fail "expected one trust policy write for the whole fleet's teardown, saw $(iam_writes)"
}

# A trust policy too large for the quota: the write fails before anything is written, every project's Atlas role
# stays pending and says so; the rerun with merge resumes those roles (no second role anywhere).
quota_failure_then_resume() {
    local count=10 role=quota-role inventory="$WORK_DIR/quota-role.yml"
    write_inventory "$inventory" "$count" "$role"
    probe iam-role "$role" > /dev/null
    if unified_access -i "$inventory" -f "$count" -e unified_access_hosts=atlas_projects -e aws_iam_role_name="$role"; then
        fail "$count one-statement grants fit in the default trust policy quota"
    fi
    expect_message 'failed at "Write the trust grants of every host sharing this IAM role (present)": the trust policy'
    expect_message "AssumeRolePolicySizeQuota"
    expect_message "stays; the next run with the same variables resumes it"
    check_fleet "$inventory" "$role" --pending 1 --roles 1 --grants 0 --statements 1
    unified_access -i "$inventory" -f "$count" -e unified_access_hosts=atlas_projects -e aws_iam_role_name="$role" \
        -e unified_access_trust_merge=true
    check_fleet "$inventory" "$role" --authorized 1 --granted-all --grants "$count" --statements 2
}

echo "######## 8 projects sharing one IAM role, forks 8, one statement per project"
fleet 8 fleet-role false 9 full
# Setup only: the rerun and the teardown take the same paths as above, and 16 hosts cost the most time.
echo "######## 16 projects sharing one IAM role, forks 16, merged into one statement"
fleet 16 fleet-merge-role true 2 setup-only
echo "######## 10 projects over the trust policy size quota, then resumed with merge"
quota_failure_then_resume
