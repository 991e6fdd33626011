-- One row per person registered in any extract (pseudonymised: no birth month, no LSOA).
with people as (
    select * from {{ ref('int_people_deduplicated') }}
),

reference_date as (
    select max(snapshot_date) as as_of_date from people
)

select
    people.person_id,
    {{ date_part_int('year', 'people.birth_month') }} as birth_year,
    people.sex,
    {{ age_band(age_in_years('people.birth_month', 'reference_date.as_of_date')) }} as age_band,
    reference_date.as_of_date as age_band_as_of,
    people.ethnicity_2001_code,
    people.ethnicity_group_2021,
    people.imd_quintile,
    people.practice_code,
    people.is_currently_registered
from people
cross join reference_date
