# Copyright: webstack.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Layer specs, one file per module and named like it (``_layers/network.py`` is ``plugins/modules/network.py``):
the layer's options, validation, desired state and outputs.

PRIVATE to this collection: the modules are its interface; these files may change in any release.
"""
