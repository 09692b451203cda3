/**
 * Daily-milk subscription schedule rules (pure, deterministic; safe inside Temporal workflows).
 */
export type {
  LocalDate,
  IsoWeekday,
  Recurrence,
  SubscriptionStatus,
  ScheduleSubscription,
  ExceptionType,
  ExceptionReason,
  ScheduleException,
  DecisionReason,
  DecidedBy,
  Decision,
} from './types';
export {
  addDays,
  daysBetween,
  isValidLocalDate,
  addMonthsClamped,
  isLeapYear,
  daysInMonth,
  isoWeekday,
  toEpochDay,
  fromEpochDay,
  compareLocalDates,
} from './local-date';
export { localDateOf, cutoffInstant, isValidTimezone, DEFAULT_TIMEZONE, DEFAULT_CUTOFF } from './timezone';
export { ruleDelivers, validateRecurrence } from './recurrence';
export { exceptionCovers, describeException } from './exceptions';
export { wouldDeliver, compileSchedule, describeRule, type CompiledSchedule } from './decide';
export { nextDeliveries, deliveriesBetween, pausedDaysIn, NEXT_DELIVERIES_HORIZON_DAYS } from './queries';
export {
  validateExceptionRequest,
  type ExceptionRequest,
  type ExceptionRequestContext,
  type ExceptionRequestError,
} from './validate-request';
