{#- Fails on every row whose value lies outside [min_value, max_value] (nulls are not_null's job). -#}
{% test value_between(model, column_name, min_value, max_value) %}
select *  -- the whole row, so stored failures name what failed (a batch, a city and day)
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
