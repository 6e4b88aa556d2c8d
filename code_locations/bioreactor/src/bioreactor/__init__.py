"""bioreactor: batch files dropped in the landing bucket, validated and appended to the lake."""
