"""Pure domain: ids, tracks, queue rules, message schemas and policies. Imports nothing of ours."""
