# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource kinds, one file per boto3 service (``ec2.py``, ``iam.py``, ...): how each AWS resource type the
collection manages is read, created, updated, tagged and deleted.

PRIVATE to this collection: the modules are its interface; these files may change in any release.
"""
