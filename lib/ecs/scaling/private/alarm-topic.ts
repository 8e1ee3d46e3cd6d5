import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwactions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { acknowledgeControl } from '../../../private/guard';

/**
 * Sends the alarm to `alarmTopic` when there is one (Control Tower CT.CLOUDWATCH.PR.1); without it,
 * acknowledges the control on the alarm as the `alarmTopic` option, saying what the alarm reports.
 */
export function notifyAlarmTopic(alarm: cloudwatch.Alarm, alarmTopic: sns.ITopic | undefined, reports: string, field: string): void {
  if (alarmTopic) {
    alarm.addAlarmAction(new cwactions.SnsAction(alarmTopic));
    return;
  }
  acknowledgeControl(alarm, 'cloudwatch_alarm_action_check',
    `Who hears about ${reports} is the user's choice: alarmTopic adds an SNS action; without it the alarm still shows ` +
    `it in CloudWatch, and actions can be added later through ${field}.`, 'alarmTopic');
}
