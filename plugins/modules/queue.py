#!/usr/bin/python
# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: queue
short_description: The worker queue of a webstack environment (an SQS queue and its dead-letter queue)
version_added: 0.2.0
description:
  - Converges the queue layer of one environment in one task, Elastic Beanstalk's worker queue model - an SQS
    queue C(<environment>-<name>) that the worker daemon polls, and its dead-letter queue
    C(<environment>-<name>-dead-letter) (both ending in C(.fifo) for FIFO queues).
  - The queue's redrive policy moves a message to the dead-letter queue after O(max_receive_count) receives
    (the worker daemon's MaxRetries). The dead-letter queue has the same settings as the queue (visibility
    timeout, long polling, delay, message size, encryption) except its retention (O(dead_letter_retention)),
    has no redrive policy and no queue policy, and (O(restrict_dead_letter_sources), on by default) a redrive
    allow policy that admits the queue only.
  - Attributes converge exactly - every attribute the module manages is compared with what SQS holds
    (numbers as SQS returns them, policies as parsed JSON, normalised - a single statement or action versus a
    list, statement and action order, an account id versus its root ARN as principal) and only the attributes
    that differ are sent, in one C(SetQueueAttributes) per queue. A queue policy added by hand is removed when
    O(policy) is not given; an attribute changed by hand is put back.
  - The layer owns the environment's queues - the pair the current O(name) and O(fifo) give; any other queue
    tagged for this environment and layer is deleted.
  - Reads with one C(ListQueues) by the name prefix C(<environment>-), and per queue found one
    C(ListQueueTags) (only queues tagged C(webstack:environment=<environment>) exactly are the environment's;
    C(prod) never picks C(prod-eu)'s queues) and, for the environment's own, one C(GetQueueAttributes). A run
    that changes nothing makes 5 calls. Check mode returns the exact plan; C(--diff) renders it.
author:
  - webstack.aws maintainers (@webstack-aws)
options:
  name:
    description:
      - The queue's name after the environment - the queue is C(<environment>-<name>), its dead-letter queue
        C(<environment>-<name>-dead-letter). Letters, digits, hyphens and underscores; the dead-letter queue's
        whole name must fit in 80 characters (C(.fifo) included).
      - Changing it replaces both queues (their messages are lost) and needs O(allow_replacement=true).
    type: str
    default: worker
  fifo:
    description:
      - Make FIFO queues (names ending in C(.fifo)). Changing it replaces both queues and needs
        O(allow_replacement=true).
    type: bool
    default: false
  content_based_deduplication:
    description:
      - FIFO queues only - deduplicate messages by a SHA-256 hash of their body instead of an explicit
        deduplication id. Left out means V(false).
    type: bool
  visibility_timeout:
    description:
      - Seconds a received message stays hidden from other consumers (0 to 43200). Should exceed the worker's
        inactivity timeout.
    type: int
    default: 300
  message_retention:
    description: Seconds the queue keeps a message (60 to 1209600, 14 days).
    type: int
    default: 345600
  receive_wait_time:
    description: Long polling - seconds a receive waits for a message to arrive (0 to 20).
    type: int
    default: 20
  delay_seconds:
    description: Seconds a new message stays invisible before it can be received (0 to 900).
    type: int
    default: 0
  maximum_message_size:
    description: The largest message, in bytes (1024 to 262144).
    type: int
    default: 262144
  max_receive_count:
    description:
      - How many times a message is received before it moves to the dead-letter queue (1 to 1000); the worker
        daemon's MaxRetries.
    type: int
    default: 10
  dead_letter_retention:
    description:
      - Seconds the dead-letter queue keeps a message (60 to 1209600). For a standard queue a message keeps its
        original enqueue time when it is moved, so keep this longer than O(message_retention).
    type: int
    default: 1209600
  encryption:
    description:
      - Server-side encryption of both queues - V(sqs) with SQS-owned keys (SSE-SQS), V(kms) with a KMS key
        (SSE-KMS, O(kms_key_id)), or V(none).
    type: str
    choices: [sqs, kms, none]
    default: sqs
  kms_key_id:
    description:
      - With O(encryption=kms), the KMS key - an id, ARN, alias name or alias ARN. Left out means the AWS
        managed key C(alias/aws/sqs). Not allowed with other O(encryption) values.
    type: str
  kms_data_key_reuse:
    description:
      - With O(encryption=kms), seconds SQS reuses a data key before asking KMS again (60 to 86400). Left out
        means 300. Not allowed with other O(encryption) values.
    type: int
  policy:
    description:
      - The queue's access policy (a policy document, for example letting an SNS topic or EventBridge send).
      - Converged exactly - compared as parsed, normalised JSON. Left out means no policy - a policy on the
        queue (added by hand, say) is removed.
      - The dead-letter queue never has a policy.
    type: dict
  restrict_dead_letter_sources:
    description:
      - Give the dead-letter queue a redrive allow policy (C({"redrivePermission":"byQueue",
        "sourceQueueArns":[<queue ARN>]})) so no other queue can use it as its dead-letter queue. V(false)
        allows every queue (SQS's and Elastic Beanstalk's default) - a redrive allow policy already on the
        dead-letter queue is set back to C(allowAll).
      - On a new environment the policy is set right after the dead-letter queue is created (one more
        C(SetQueueAttributes)), once the queue's ARN is known.
    type: bool
    default: true
  allow_replacement:
    description:
      - Allow changes that delete the queues and create them again (O(name), O(fifo)); their messages are lost.
        Without it such a change fails before anything is touched.
    type: bool
    default: false
extends_documentation_fragment:
  - webstack.aws.layer
  - webstack.aws.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
notes:
  - Real SQS refuses to create a queue under the name of one deleted less than 60 seconds ago
    (C(AWS.SimpleQueueService.QueueDeletedRecently)); the module retries that create with backoff, so a delete
    followed at once by a create takes about a minute. A deleted queue may also still be listed for up to a
    minute; the module ignores it.
  - O(state=absent) deletes the queue first, then its dead-letter queue, with their messages.
  - Queues are tagged at creation (C(webstack:environment), C(webstack:layer=queue), C(webstack:resource) -
    V(queue) or V(dead-letter) - C(Name) and O(tags)).
"""

EXAMPLES = r"""
- name: The worker queue of an environment, with Elastic Beanstalk's defaults
  webstack.aws.queue:
    environment: shop-prod

- name: A FIFO queue encrypted with a customer managed key, 5 retries, that an SNS topic may send to
  webstack.aws.queue:
    environment: shop-prod
    name: orders
    fifo: true
    content_based_deduplication: true
    visibility_timeout: 600
    max_receive_count: 5
    encryption: kms
    kms_key_id: alias/shop-prod
    restrict_dead_letter_sources: true
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: FromTopic
          Effect: Allow
          Principal:
            Service: sns.amazonaws.com
          Action: sqs:SendMessage
          Resource: arn:aws:sqs:us-east-1:123456789012:shop-prod-orders.fifo
          Condition:
            ArnEquals:
              aws:SourceArn: arn:aws:sns:us-east-1:123456789012:shop-prod-orders.fifo
    tags:
      team: shop

- name: Delete the queue and its dead-letter queue
  webstack.aws.queue:
    environment: shop-prod
    state: absent
"""

RETURN = r"""
changed:
  description: Whether anything was (or, in check mode, would be) changed.
  returned: always
  type: bool
plan:
  description:
    - The changes, in the order they are applied. Check mode returns the same plan without applying it.
    - Values known only after apply (the ARN of a queue still to be created) read C((known after apply ...)).
  returned: always
  type: list
  elements: dict
  contains:
    action:
      description: One of V(create), V(update), V(replace), V(delete).
      type: str
      sample: update
    kind:
      description: Always V(sqs_queue).
      type: str
      sample: sqs_queue
    key:
      description: V(queue) or V(dead-letter), also the queue's C(webstack:resource) tag.
      type: str
      sample: queue
    id:
      description: The queue's ARN; null for a create.
      type: str
      sample: arn:aws:sqs:us-east-1:123456789012:shop-prod-worker
    fields:
      description: Field name to C(before) and C(after), for every field that changes.
      type: dict
      sample: {"visibility_timeout": {"before": 300, "after": 600}}
    replace_reasons:
      description: For a V(replace), the create-only fields whose change forces it.
      type: list
      elements: str
      returned: when action is replace
applied:
  description: What was done, in order; empty in check mode and when nothing had to change.
  returned: always
  type: list
  elements: str
  sample: ["create sqs_queue dead-letter", "create sqs_queue queue"]
queue:
  description:
    - The queues, as converged. URLs and ARNs are null in check mode for queues not created yet.
    - Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    environment:
      description: The environment name.
      type: str
      sample: shop-prod
    name:
      description: The queue's name.
      type: str
      sample: shop-prod-worker
    url:
      description: The queue's URL (what the worker daemon polls).
      type: str
      sample: https://sqs.us-east-1.amazonaws.com/123456789012/shop-prod-worker
    arn:
      description: The queue's ARN.
      type: str
      sample: arn:aws:sqs:us-east-1:123456789012:shop-prod-worker
    attributes:
      description:
        - The queue's attributes the module manages, as SQS shows them (strings; policies as JSON text). The
          redrive policy's target is null in check mode while the dead-letter queue is still to be created.
      type: dict
      sample:
        VisibilityTimeout: "300"
        MessageRetentionPeriod: "345600"
        ReceiveMessageWaitTimeSeconds: "20"
        DelaySeconds: "0"
        MaximumMessageSize: "262144"
        SqsManagedSseEnabled: "true"
        FifoQueue: "false"
        RedrivePolicy: >-
          {"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:shop-prod-worker-dead-letter","maxReceiveCount":10}
    dead_letter_name:
      description: The dead-letter queue's name.
      type: str
      sample: shop-prod-worker-dead-letter
    dead_letter_url:
      description: The dead-letter queue's URL.
      type: str
      sample: https://sqs.us-east-1.amazonaws.com/123456789012/shop-prod-worker-dead-letter
    dead_letter_arn:
      description: The dead-letter queue's ARN.
      type: str
      sample: arn:aws:sqs:us-east-1:123456789012:shop-prod-worker-dead-letter
    dead_letter_attributes:
      description: The dead-letter queue's managed attributes, as for RV(queue.attributes).
      type: dict
"""

from ansible_collections.webstack.aws.plugins.module_utils._engine.runner import run_layer
from ansible_collections.webstack.aws.plugins.module_utils._layers.queue import QueueLayer, argument_spec


def main():
    run_layer(QueueLayer(), argument_spec())


if __name__ == "__main__":
    main()
