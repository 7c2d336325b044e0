#!/usr/bin/env bash
# End-to-end: many Atlas projects (inventory hosts) sharing one IAM role, set up in parallel with forks. The role must
# write the shared trust policy once, with every project's grant, and authorize every project.
source ../setup_unified_access/lib.sh
start_servers

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

echo "######## 8 projects sharing one IAM role, forks 8, one statement per project"
fleet 8 fleet-role false 9 full
# Setup only: the rerun and the teardown take the same paths as above, and 16 hosts cost the most time.
echo "######## 16 projects sharing one IAM role, forks 16, merged into one statement"
fleet 16 fleet-merge-role true 2 setup-only
