#!/usr/bin/env bash
# End-to-end: the collection's playbook against the Atlas emulator and moto's IAM server, one scenario per function.
# Each scenario uses its own Atlas project and IAM role; probe.py (not the collection) judges the outcome.
source ../setup_unified_access/lib.sh
start_moto_and_emulator

role_id_of() { probe roles "$1" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[0]["roleId"])'; }

fresh_setup_then_rerun_without_writes() {
    local project; project=$(new_project fresh)
    probe iam-role fresh-role > /dev/null
    playbook fact.yml -e atlas_project_id="$project" -e aws_iam_role_name=fresh-role
    expect_changed
    expect_message "Project $project: Atlas role"
    check "$project" fresh-role --authorized 1 --granted-all --grants 1 --statements 2
    probe clear-requests > /dev/null
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=fresh-role
    expect_unchanged
    check "$project" fresh-role --authorized 1 --granted-all --grants 1 --statements 2 --no-writes
}

resume_pending_role_with_service_account() {
    local project role_id; project=$(new_project resume)
    probe iam-role resume-role > /dev/null
    role_id=$(probe pending-role "$project" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["roleId"])')
    (
        unset MONGODB_ATLAS_PUBLIC_API_KEY MONGODB_ATLAS_PRIVATE_API_KEY
        # ansible-core 2.20+ leaves module arguments out of results unless asked; older lines ignore the variable.
        export ANSIBLE_INJECT_INVOCATION=true
        unified_access -vvv -e atlas_project_name=resume -e aws_iam_role_name=resume-role -e unified_access_no_log=false \
            -e atlas_client_id="$EMULATOR_CLIENT_ID" -e atlas_client_secret="$EMULATOR_CLIENT_SECRET"
    )
    check "$project" resume-role --authorized 1 --role-id "$role_id" --granted-all --grants 1
    grep -Fq "\"module_args\"" "$RUN_LOG" || fail "the verbose run did not show the modules' arguments"
    if grep -Fq "$EMULATOR_CLIENT_SECRET" "$RUN_LOG"; then fail "the client secret was printed"; fi
}

propagation_delay_is_waited_out() {
    local project; project=$(new_project propagation)
    probe iam-role propagation-role > /dev/null
    probe delay 3 > /dev/null
    probe clear-requests > /dev/null
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=propagation-role
    probe delay 0 > /dev/null
    check "$project" propagation-role --authorized 1 --granted-all
    probe requests | grep -q 'PATCH [^"]* 400' || fail "Atlas never answered CANNOT_ASSUME_ROLE: the delay was not exercised"
    expect_message "waiting for IAM propagation"
}

teardown_twice() {
    local project; project=$(new_project teardown)
    probe iam-role teardown-role > /dev/null
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=teardown-role
    check "$project" teardown-role --authorized 1 --grants 1
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=teardown-role -e unified_access_state=absent
    expect_changed
    check "$project" teardown-role --roles 0 --grants 0 --statements 1
    probe clear-requests > /dev/null
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=teardown-role -e unified_access_state=absent
    expect_unchanged
    expect_message "nothing to remove"
    check "$project" teardown-role --roles 0 --grants 0 --statements 1 --no-writes
}

in_use_guard() {
    local project role_id; project=$(new_project in-use)
    probe iam-role in-use-role > /dev/null
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=in-use-role
    role_id=$(role_id_of "$project")
    probe feature-usage "$project" "$role_id" ENCRYPTION_AT_REST > /dev/null
    probe clear-requests > /dev/null
    if unified_access -e atlas_project_id="$project" -e aws_iam_role_name=in-use-role -e unified_access_state=absent; then
        fail "teardown went ahead while encryption at rest uses the role"
    fi
    expect_message "ENCRYPTION_AT_REST"
    check "$project" in-use-role --authorized 1 --role-id "$role_id" --granted-all --grants 1 --no-writes
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=in-use-role -e unified_access_state=absent \
        -e unified_access_force=true
    check "$project" in-use-role --roles 0 --grants 0 --statements 1
}

check_mode_changes_nothing() {
    local project; project=$(new_project check-mode)
    probe iam-role check-mode-role > /dev/null
    probe snapshot "$project" check-mode-role > "$WORK_DIR/before.json"
    probe clear-requests > /dev/null
    unified_access --check --diff -e atlas_project_id="$project" -e aws_iam_role_name=check-mode-role
    expect_message "Check mode: project $project would get Atlas role (new)"
    check "$project" check-mode-role --roles 0 --grants 0 --same-as "$WORK_DIR/before.json" --no-writes
    # The same for a teardown of a real setup.
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=check-mode-role
    probe snapshot "$project" check-mode-role > "$WORK_DIR/before.json"
    probe clear-requests > /dev/null
    unified_access --check -e atlas_project_id="$project" -e aws_iam_role_name=check-mode-role -e unified_access_state=absent
    expect_message "Check mode: project $project would lose Atlas role(s)"
    check "$project" check-mode-role --authorized 1 --grants 1 --same-as "$WORK_DIR/before.json" --no-writes
}

wrong_iam_role_leaves_no_atlas_role() {
    local project; project=$(new_project wrong-name)
    probe clear-requests > /dev/null
    if unified_access -e atlas_project_id="$project" -e aws_iam_role_name=no-such-role; then
        fail "a missing IAM role was accepted"
    fi
    expect_message "IAM role no-such-role was not found"
    check "$project" no-such-role --roles 0 --no-writes
}

teardown_after_interrupted_setup() {
    local project role; project=$(new_project interrupted)
    probe iam-role interrupted-role > /dev/null
    role=$(probe pending-role "$project")
    probe grant interrupted-role \
        "$(echo "$role" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["atlasAWSAccountArn"])')" \
        "$(echo "$role" | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["atlasAssumedRoleExternalId"])')" > /dev/null
    check "$project" interrupted-role --pending 1 --granted-all --grants 1
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=interrupted-role -e unified_access_state=absent
    expect_changed
    check "$project" interrupted-role --roles 0 --grants 0 --statements 1
}

create_missing_iam_role() {
    local project; project=$(new_project create-role)
    probe clear-requests > /dev/null
    unified_access --check -e atlas_project_id="$project" -e aws_iam_role_name=created-role -e aws_create_iam_role=true
    expect_message "Check mode: project $project would get Atlas role (new)"
    check "$project" created-role --roles 0 --no-writes
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=created-role -e aws_create_iam_role=true
    expect_changed
    check "$project" created-role --authorized 1 --granted-all --grants 1 --statements 1 --created-by-role
    unified_access -e atlas_project_id="$project" -e aws_iam_role_name=created-role -e aws_create_iam_role=true
    expect_unchanged
}

input_rules_and_project_from_environment() {
    local project; project=$(new_project from-env)
    probe iam-role from-env-role > /dev/null
    probe clear-requests > /dev/null
    if unified_access -e atlas_project_id="$project" -e aws_iam_role_name=from-env-role \
        -e aws_iam_role_arn=arn:aws:iam::123456789012:role/from-env-role; then
        fail "both aws_iam_role_name and aws_iam_role_arn were accepted"
    fi
    expect_message "Set exactly one of atlas_project_id"
    if unified_access -e atlas_project_id="$project" -e aws_iam_role_name=from-env-role -e unified_access_state=gone; then
        fail "an unknown unified_access_state was accepted"
    fi
    expect_message "unified_access_state"
    check "$project" from-env-role --roles 0 --no-writes
    MONGODB_ATLAS_PROJECT_ID="$project" unified_access -e aws_iam_role_name=from-env-role
    expect_message "Project $project: Atlas role"
    check "$project" from-env-role --authorized 1 --granted-all --grants 1
}

modules_through_module_defaults_groups() {
    local project; project=$(new_project module-defaults)
    probe iam-role module-defaults-role > /dev/null
    playbook module_defaults.yml -e atlas_project_id="$project" -e aws_iam_role_name=module-defaults-role
    check "$project" module-defaults-role --roles 0 --grants 0 --statements 1
}

for scenario in fresh_setup_then_rerun_without_writes resume_pending_role_with_service_account \
    propagation_delay_is_waited_out teardown_twice in_use_guard check_mode_changes_nothing \
    wrong_iam_role_leaves_no_atlas_role teardown_after_interrupted_setup create_missing_iam_role \
    input_rules_and_project_from_environment modules_through_module_defaults_groups; do
    if [ -n "${UNIFIED_ACCESS_SCENARIO:-}" ] && [ "$scenario" != "$UNIFIED_ACCESS_SCENARIO" ]; then continue; fi
    echo "######## scenario: $scenario"
    "$scenario"
    echo "######## scenario passed: $scenario"
done
